// Proactive posts (a scheduled poll's card, a reminder) to a conversation by its stored reference: where they go, and
// what a connector's refusal does to the stored conversation.
import type { ConversationReference, Core } from '@livevote/core';
import { choicePoll, type EmbeddedCore, embeddedCore } from '@livevote/core/testing';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postPollCard, sendToConversation } from './proactive.ts';
import type { Connector } from './teams-delivery.ts';

const CONV = '19:lunch@thread.tacv2';
const SERVICE = 'https://smba.example.test/amer';

/** An error shaped like the Teams SDK's HTTP client throws (axios): a response with status and headers. */
const httpError = (status: number) =>
  Object.assign(new Error(`Request failed with status code ${status}`), {
    response: { status, headers: {} },
  });

type Answer = { id: string } | { status: number };

/**
 * A connector that records each create and answers with `answer` (an id, or an HTTP status to throw), or with what
 * `answer` says for the conversation path called.
 */
function connector(answerOf: Answer | ((conversationId: string) => Answer)) {
  const created: { serviceUrl: string; conversationId: string; activity: object }[] = [];
  const deleted: string[] = [];
  const make = (serviceUrl: string): Connector => ({
    conversations: {
      activities: (conversationId) => ({
        async create(activity) {
          created.push({ serviceUrl, conversationId, activity });
          const answer = typeof answerOf === 'function' ? answerOf(conversationId) : answerOf;
          if ('status' in answer) throw httpError(answer.status);
          return answer;
        },
        async update() {
          return {};
        },
        async delete(id) {
          deleted.push(`${conversationId} ${id}`);
          return {};
        },
      }),
    },
  });
  return { make, created, deleted };
}

describe('Teams proactive posts', () => {
  let embedded: EmbeddedCore;
  let core: Core;
  beforeAll(async () => {
    embedded = await embeddedCore();
    core = embedded.core;
  });
  afterAll(async () => {
    await embedded.close();
  });
  /** Stores the conversation's reference as a validated activity would have left it. */
  const store = (reference: Partial<ConversationReference> = {}) =>
    core.conversations.saveConversation({
      platform: 'teams',
      conversation_id: CONV,
      workspace: 'teams:tenant-1',
      reference: {
        serviceUrl: SERVICE,
        conversationId: CONV,
        tenantId: 'tenant-1',
        botId: '28:bot',
        ...reference,
      },
    });
  beforeEach(() => store());

  const deps = (make: (url: string) => Connector) => ({
    core,
    publicUrl: 'https://livevote.example.test',
    connector: make,
    serviceUrlAllowed: (url: string) => url.startsWith('https://'),
  });

  it('posts a poll card to the stored service URL and tracks the message', async () => {
    const c = connector({ id: 'act-7' });
    const tracked: unknown[] = [];
    const pollId = await choicePoll(core);
    const r = await postPollCard(
      { ...deps(c.make), tally: { track: async (m) => void tracked.push(m) } },
      CONV,
      pollId,
    );
    expect(r).toMatchObject({ ok: true, message: { channel: CONV, message_id: 'act-7', poll_id: pollId } });
    expect(c.created.map((x) => [x.serviceUrl, x.conversationId])).toEqual([[SERVICE, CONV]]);
    expect(tracked).toHaveLength(1);
  });

  it('takes a posted card down again when tracking it fails (the database did not answer), so a retry leaves one', async () => {
    const c = connector({ id: 'act-8' });
    const pollId = await choicePoll(core);
    const failing = {
      track: async () => {
        throw new Error('connection terminated');
      },
    };
    const r = await postPollCard({ ...deps(c.make), tally: failing }, CONV, pollId);
    expect(r).toEqual({ ok: false, kind: 'retry', reason: 'not_tracked' });
    expect(c.deleted).toEqual([`${CONV} act-8`]);
    expect(await core.conversations.conversation('teams', CONV)).not.toBeNull(); // not a refusal by Teams
  });

  it.each([
    ['a poll card', 'card'],
    ['a plain activity', 'plain'],
  ] as const)(
    'forgets the conversation when Teams answers 403 to %s (the bot was removed)',
    async (_, kind) => {
      const c = connector({ status: 403 });
      const pollId = await choicePoll(core);
      const r =
        kind === 'card'
          ? await postPollCard({ ...deps(c.make), tally: { track: async () => {} } }, CONV, pollId)
          : await sendToConversation(deps(c.make), CONV, {
              type: 'message',
              text: 'Lunch closes in 10 minutes',
            });
      expect(r).toEqual({ ok: false, kind: 'permanent', reason: 'bot_removed' });
      expect(await core.conversations.conversation('teams', CONV)).toBeNull();
      // Nothing tries it again: the next post is refused before any call.
      const again = await sendToConversation(deps(c.make), CONV, { type: 'message', text: 'again' });
      expect(again).toMatchObject({ ok: false, kind: 'permanent', reason: 'unknown_conversation' });
      expect(c.created).toHaveLength(1);
    },
  );

  it.each([429, 412, 502])('keeps the conversation on a %i, which is worth a retry', async (status) => {
    const c = connector({ status });
    const r = await sendToConversation(deps(c.make), CONV, { type: 'message', text: 'hi' });
    expect(r).toMatchObject({ ok: false, kind: 'retry' });
    expect(await core.conversations.conversation('teams', CONV)).not.toBeNull();
  });

  it.each([
    ['channel', `${CONV};messageid=1700`, undefined],
    ['groupChat', CONV, '1700'],
  ] as const)(
    'replies to a message of a %s in its thread, or quoting it where there are no threads',
    async (type, path, quoted) => {
      await store({ conversationType: type });
      const c = connector({ id: 'r1' });
      expect(await sendToConversation(deps(c.make), CONV, { type: 'message', text: 'hi' }, '1700')).toEqual({
        ok: true,
      });
      const [created] = c.created;
      expect(created?.conversationId).toBe(path);
      expect((created?.activity as { replyToId?: string } | undefined)?.replyToId).toBe(quoted);
    },
  );

  it.each([403, 404])(
    'posts on its own when the reply to a message is refused (%i: replies moderated, or the card deleted), and keeps the conversation',
    async (status) => {
      await store({ conversationType: 'channel' });
      const c = connector((path) => (path.includes(';messageid=') ? { status } : { id: 'top-1' }));
      const r = await sendToConversation(deps(c.make), CONV, { type: 'message', text: 'reminder' }, '1700');
      expect(r).toEqual({ ok: true });
      expect(c.created.map((x) => x.conversationId)).toEqual([`${CONV};messageid=1700`, CONV]);
      expect(await core.conversations.conversation('teams', CONV)).not.toBeNull();
    },
  );

  it('never calls a stored service URL it may not', async () => {
    await store({ serviceUrl: 'http://evil.example.test' });
    const c = connector({ id: 'x' });
    const r = await sendToConversation(deps(c.make), CONV, { type: 'message', text: 'hi' });
    expect(r).toMatchObject({ ok: false, kind: 'permanent', reason: 'service_url_not_allowed' });
    expect(c.created).toHaveLength(0);
  });
});
