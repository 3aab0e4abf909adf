// The Teams app end to end, offline: activities posted to /api/messages with a serviceUrl that points at a local
// fake connector, which records the bot's sends and card updates.
import type { PollListResponse, Snapshot } from '@livevote/core/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booted, boot } from '../boot.ts';
import { FakeConnector } from './fake-connector.ts';

describe('Teams app (local development mode: no TEAMS_CLIENT_ID, AUTH_MODE=open)', () => {
  const connector = new FakeConnector();
  let app: Booted;
  let n = 0;
  beforeAll(async () => {
    await connector.start();
    app = await boot({});
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await connector.stop();
  });

  const activity = (extra: Record<string, unknown>, user = 'u1') => ({
    id: `activity-${++n}`,
    channelId: 'msteams',
    serviceUrl: connector.url,
    from: { id: `29:${user}`, aadObjectId: `aad-${user}`, name: user },
    recipient: { id: '28:bot', name: 'livevote' },
    conversation: { id: 'conv1', tenantId: 'tenant-1', conversationType: 'channel' },
    timestamp: new Date().toISOString(),
    ...extra,
  });
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${app.base}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const vote = (pollId: string, option: string, user: string, id?: string) =>
    post({
      ...activity(
        {
          type: 'invoke',
          name: 'adaptiveCard/action',
          value: {
            action: {
              type: 'Action.Execute',
              verb: 'vote',
              data: { verb: 'vote', poll_id: pollId, question_id: 'q1', option_id: option },
            },
          },
        },
        user,
      ),
      ...(id ? { id } : {}),
    });
  const snapshotOf = async (pollId: string) =>
    ((await (await fetch(`${app.base}/api/polls/${pollId}`)).json()) as { snapshot: Snapshot }).snapshot;

  async function newPoll(question: string) {
    const res = await post(
      activity({ type: 'message', text: `<at>livevote</at> poll ${question}; Pizza; Sushi` }),
    );
    expect(res.status).toBe(200);
    const send = connector.posts().find((c) => JSON.stringify(c.body).includes(question));
    expect(send?.path).toBe('/v3/conversations/conv1/activities');
    if (!send) throw new Error('the card was not sent');
    const attachment = (
      send.body.attachments as {
        contentType: string;
        content: {
          version: string;
          actions: { type: string; verb?: string; data?: { poll_id: string }; fallback?: { type: string } }[];
        };
      }[]
    )[0];
    return {
      attachment,
      pollId: attachment?.content.actions[0]?.data?.poll_id as string,
      activityId: `act-${connector.posts().indexOf(send as never) + 1}`,
    };
  }

  it('posts an Adaptive Card 1.5 with Action.Execute (verb vote) and an Action.Submit fallback for "poll Q; A; B"', async () => {
    const { attachment, pollId } = await newPoll('Where to?');
    expect(attachment?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(attachment?.content.version).toBe('1.5');
    const execute = attachment?.content.actions.filter((a) => a.type === 'Action.Execute') ?? [];
    expect(execute).toHaveLength(2);
    expect(execute.every((a) => a.verb === 'vote' && a.fallback?.type === 'Action.Submit')).toBe(true);
    expect(pollId).toMatch(/^[a-z0-9]+$/);
  });

  it('answers a click with the refreshed card showing the clicker their own vote; 20 users are all counted', async () => {
    const { pollId } = await newPoll('Twenty voters?');
    const first = await vote(pollId, 'o2', 'v0');
    expect(first.status).toBe(200);
    const reply = (await first.json()) as {
      statusCode: number;
      type: string;
      value: { body: { text?: string; columns?: { items: { text: string }[] }[] }[] };
    };
    expect(reply.type).toBe('application/vnd.microsoft.card.adaptive');
    expect(JSON.stringify(reply.value)).toContain('✅ Sushi');
    expect(JSON.stringify(reply.value)).not.toContain('✅ Pizza');
    const rest = await Promise.all(
      Array.from({ length: 19 }, (_, i) => vote(pollId, i % 2 ? 'o2' : 'o1', `v${i + 1}`)),
    );
    expect(rest.every((r) => r.status === 200)).toBe(true);
    const s = await snapshotOf(pollId);
    expect(s.total_voters).toBe(20);
    expect(s.questions[0]?.options.map((o) => o.vote_count)).toEqual([10, 10]);
  });

  it('counts a redelivered activity once', async () => {
    const { pollId } = await newPoll('Redelivered?');
    await vote(pollId, 'o1', 'r1', 'same-activity-id');
    await vote(pollId, 'o1', 'r1', 'same-activity-id');
    const s = await snapshotOf(pollId);
    expect([s.total_voters, s.version]).toEqual([1, 1]);
  });

  it('keeps the shared card at ≤ 1 update per second, ending on the final count; a 429 delays but does not lose it', async () => {
    const { pollId, activityId } = await newPoll('Throttled?');
    await expect.poll(() => connector.puts(activityId).length).toBeGreaterThan(0);
    connector.rateLimit = { next: 1, retryAfter: 2, activityId };
    for (let i = 0; i < 12; i++) await vote(pollId, 'o1', `t${i}`);
    await expect
      .poll(() => JSON.stringify(connector.puts(activityId).at(-1)?.body ?? '').includes('██████████ 12'), {
        timeout: 15_000,
      })
      .toBe(true);
    expect(connector.puts(activityId, 429).length).toBe(1);
    const limitedAt = connector.puts(activityId, 429)[0]?.at as number;
    const after = connector.puts(activityId).find((c) => c.at > limitedAt);
    expect((after?.at ?? 0) - limitedAt).toBeGreaterThanOrEqual(1_990); // Retry-After: 2 honoured
    const times = connector.calls
      .filter((c) => c.method === 'PUT' && c.path.endsWith(`/${activityId}`))
      .map((c) => c.at);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps.every((g) => g >= 990)).toBe(true);
  }, 30_000);

  it('handles the Action.Submit fallback (a message carrying the button data)', async () => {
    const { pollId } = await newPoll('Old client?');
    const res = await post(
      activity(
        { type: 'message', value: { verb: 'vote', poll_id: pollId, question_id: 'q1', option_id: 'o1' } },
        'old1',
      ),
    );
    expect(res.status).toBe(200);
    expect((await snapshotOf(pollId)).total_voters).toBe(1);
    await expect
      .poll(() => connector.posts().some((c) => String(c.body.text).includes('Your vote')))
      .toBe(true);
  });

  it("answers with our security headers and without the Teams SDK's Express advertising itself", async () => {
    const res = await post(activity({ type: 'message', text: 'help' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
  });

  it('refuses a bidi override or a control character in "poll Q; A; B", naming the part', async () => {
    const polls = async () => {
      const all = await fetch(`${app.base}/api/polls?workspace=teams:tenant-1`, {
        headers: { authorization: `Bearer ${app.running.adminToken}` },
      });
      return ((await all.json()) as PollListResponse).polls.length;
    };
    const before = await polls();
    const sent = () => connector.posts().map((c) => String(c.body.text ?? ''));
    expect((await post(activity({ type: 'message', text: 'poll Lunch?; Pizza; Sushi\u2066' }))).status).toBe(
      200,
    );
    await expect
      .poll(sent)
      .toContainEqual(expect.stringMatching(/Option 2 must not contain control characters/));
    expect((await post(activity({ type: 'message', text: 'poll Lunch\u0000?; Pizza; Sushi' }))).status).toBe(
      200,
    );
    await expect.poll(sent).toContainEqual(expect.stringMatching(/The question must not contain control/));
    expect(await polls()).toBe(before);
  });

  it('creates a lunch poll for "lunch" and explains itself for anything else', async () => {
    const before = connector.posts().length;
    await post(activity({ type: 'message', text: 'lunch' }));
    const card = connector
      .posts()
      .slice(before)
      .find((c) => JSON.stringify(c.body).includes('Where shall we eat?'));
    expect(card).toBeDefined();
    await post(activity({ type: 'message', text: 'hello' }));
    expect(connector.posts().at(-1)?.body.text).toContain('poll Question; Option A; Option B');
  });
});

describe('Teams app with TEAMS_CLIENT_ID set', () => {
  let app: Booted;
  beforeAll(async () => {
    app = await boot({
      TEAMS_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
      TEAMS_CLIENT_SECRET: 'not-a-real-secret',
    });
  }, 120_000);
  afterAll(async () => app?.stop());

  it('refuses an unsigned or forged token with 401 and changes nothing', async () => {
    const body = JSON.stringify({
      type: 'message',
      id: 'x',
      text: 'poll Q; A; B',
      serviceUrl: 'http://127.0.0.1:9/',
      channelId: 'msteams',
      from: { id: 'u' },
      conversation: { id: 'c' },
      recipient: { id: 'b' },
    });
    const unsigned = await fetch(`${app.base}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(401);
    const forged = await fetch(`${app.base}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' },
      body,
    });
    expect(forged.status).toBe(401);
    // Every workspace's polls (the admin's view): none was created.
    const all = await fetch(`${app.base}/api/polls`, {
      headers: { authorization: `Bearer ${app.running.adminToken}` },
    });
    expect(((await all.json()) as PollListResponse).polls).toEqual([]);
  });

  it('keeps validating tokens when the environment says DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS=true', async () => {
    // The Teams SDK reads this variable whenever the option is left undefined; our config must decide alone.
    const before = process.env.DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS;
    process.env.DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS = 'true';
    let other: Booted | undefined;
    try {
      other = await boot({
        TEAMS_CLIENT_ID: '00000000-0000-0000-0000-000000000002',
        TEAMS_CLIENT_SECRET: 'not-a-real-secret',
      });
    } finally {
      if (before === undefined) delete process.env.DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS;
      else process.env.DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS = before;
    }
    try {
      const unsigned = await fetch(`${other.base}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message',
          id: 'y',
          text: 'poll Unsigned?; A; B',
          serviceUrl: 'http://127.0.0.1:9/',
          channelId: 'msteams',
          from: { id: 'u' },
          conversation: { id: 'c', tenantId: 't' },
          recipient: { id: 'b' },
        }),
      });
      expect(unsigned.status).toBe(401);
      const all = await fetch(`${other.base}/api/polls`, {
        headers: { authorization: `Bearer ${other.running.adminToken}` },
      });
      expect(((await all.json()) as PollListResponse).polls).toEqual([]);
    } finally {
      await other.stop();
    }
  }, 60_000);
});
