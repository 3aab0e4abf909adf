// A scheduled lunch poll's reminder in a Teams conversation: under the poll's card, with the close time in each
// reader's own zone.
import type { ChatMessage, Core, Poll } from '@livevote/core';
import { describe, expect, it } from 'vitest';
import { teamsDestinations } from './teams-destinations.ts';

const CONV = '19:lunch@thread.tacv2';

function setup(tracked: ChatMessage[]) {
  const sent: { conversation: string; activity: Record<string, unknown>; replyTo?: string }[] = [];
  const dest = teamsDestinations({
    core: { chat: { chatMessages: async () => tracked } } as unknown as Pick<Core, 'chat'>,
    publicUrl: 'https://lv.example',
    postPoll: async () => ({ ok: false, kind: 'permanent', reason: 'unused' }),
    send: async (conversation, activity, replyTo) => {
      sent.push({
        conversation,
        activity: activity as Record<string, unknown>,
        ...(replyTo ? { replyTo } : {}),
      });
      return { ok: true };
    },
  });
  return { dest, sent };
}

const poll = {
  id: 'lunch-1',
  title: 'Lunch',
  closes_at: '2026-12-01T03:30:00.000Z',
} as Poll;
const cardText = (a: Record<string, unknown>) =>
  JSON.stringify((a.attachments as { content: unknown }[])[0]?.content);

describe('Teams lunch reminders', () => {
  it('go under the poll’s card and show the close time in each reader’s zone, not UTC', async () => {
    const card: ChatMessage = {
      platform: 'teams',
      channel: CONV,
      message_id: '1700',
      poll_id: poll.id,
      meta: {},
    };
    const other: ChatMessage = { ...card, channel: '19:other@thread.tacv2', message_id: '1800' };
    const { dest, sent } = setup([other, card]);
    await dest.remind({ kind: 'teams', workspace: 'teams:t1', conversation: CONV }, poll, {
      option_id: 'p1',
      label: 'Pho',
      vote_count: 3,
    } as never);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.conversation).toBe(CONV);
    expect(sent[0]?.replyTo).toBe('1700');
    const text = cardText(sent[0]?.activity ?? {});
    expect(text).toContain('{{TIME(2026-12-01T03:30:00Z)}}');
    expect(text).not.toContain('UTC');
    expect(text).toContain('**Pho** leads with 3 votes');
    expect(text).toContain('https://lv.example/p/lunch-1');
  });

  it('stand alone where the card was not posted', async () => {
    const { dest, sent } = setup([]);
    await dest.remind(
      { kind: 'teams', workspace: 'teams:t1', conversation: CONV },
      { ...poll, closes_at: null } as Poll,
      null,
    );
    expect(sent[0]?.replyTo).toBeUndefined();
    expect(cardText(sent[0]?.activity ?? {})).toContain('closes soon. Nobody leads yet.');
  });
});
