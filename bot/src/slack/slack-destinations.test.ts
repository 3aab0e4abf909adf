import { buildPoll, buildSnapshot, type ChatMessage, type Core, type DirectoryEntry } from '@livevote/core';
import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { slackDestinations } from './slack-destinations.ts';

const poll = buildPoll(
  { template: 'choice', title: 'Lunch', options: ['Pho', 'Bibimbap'], closes_at: '2025-03-03T03:30:00Z' },
  'poll1',
  new Date('2025-03-03T02:00:00Z'),
);
const closed = buildSnapshot(
  { ...poll, status: 'closed' },
  { version: 4, status: 'closed', totalVoters: 2, counts: { o1: 2, '#q1': 2 } },
);
const dest = { kind: 'slack' as const, workspace: 'slack:T1', channel: 'C1' };

/** A destinations object over a recording Slack client, a message store and a directory. */
function setup(o: { messages?: ChatMessage[]; directory?: DirectoryEntry[] } = {}) {
  const calls: { method: string; args: Record<string, unknown> }[] = [];
  const tracked: ChatMessage[] = [...(o.messages ?? [])];
  let ts = 100;
  const client = {
    chat: {
      postMessage: async (args: Record<string, unknown>) => {
        calls.push({ method: 'chat.postMessage', args });
        return { ok: true, ts: String(++ts), channel: args.channel };
      },
    },
    pins: { add: async (args: Record<string, unknown>) => void calls.push({ method: 'pins.add', args }) },
  } as unknown as WebClient;
  const core = {
    chat: { chatMessages: async (id: string) => tracked.filter((m) => m.poll_id === id) },
    directory: { directory: async () => o.directory ?? [] },
  } as unknown as Pick<Core, 'chat' | 'directory'>;
  const destinations = slackDestinations({
    core,
    tally: { track: async (m: ChatMessage) => void tracked.push(m) },
    publicUrl: 'https://lunch.example',
    log: { warn() {} },
    clientFor: async (w) => (w === 'slack:T1' ? client : undefined),
  });
  return { destinations, calls, tracked };
}

describe('Slack lunch destinations', () => {
  it('posts the poll in the channel, pins it and tracks it for the tally sync', async () => {
    const { destinations, calls, tracked } = setup();
    const open = buildSnapshot(poll, { version: 1, status: 'open', totalVoters: 0, counts: {} });
    await destinations.postPoll(dest, poll, open);
    expect(calls.map((c) => c.method)).toEqual(['chat.postMessage', 'pins.add']);
    expect(tracked).toEqual([
      expect.objectContaining({
        platform: 'slack',
        channel: 'C1',
        poll_id: 'poll1',
        meta: { team: 'T1', workspace: 'slack:T1' },
      }),
    ]);
  });

  it('makes exactly one winner reply: none from announce while the tally sync tracks the message', async () => {
    const { destinations, calls } = setup();
    await destinations.postPoll(
      dest,
      poll,
      buildSnapshot(poll, { version: 1, status: 'open', totalVoters: 0, counts: {} }),
    );
    const before = calls.length;
    await destinations.announce(dest, poll, { snapshot: closed, decision: null });
    expect(calls.length).toBe(before);
  });

  it('announces in the channel itself when no tracked message is left to carry the result', async () => {
    const { destinations, calls } = setup();
    await destinations.announce(dest, poll, { snapshot: closed, decision: null });
    expect(calls).toHaveLength(1);
    expect(String(calls[0]?.args.text)).toContain('*Pho*');
  });

  it('reminds once in the poll’s thread with the leader and a vote button', async () => {
    const message: ChatMessage = {
      platform: 'slack',
      channel: 'C1',
      message_id: '55.1',
      poll_id: 'poll1',
      meta: {},
    };
    const { destinations, calls } = setup({ messages: [message] });
    await destinations.remind(dest, poll, {
      question_id: 'q1',
      option_id: 'o1',
      label: 'Pho',
      vote_count: 3,
    });
    expect(calls).toHaveLength(1);
    expect(calls[0]?.args).toMatchObject({ channel: 'C1', thread_ts: '55.1' });
    expect(String(calls[0]?.args.text)).toContain('*Pho* leads with 3 votes');
    expect(JSON.stringify(calls[0]?.args.blocks)).toContain('https://lunch.example/p/poll1');
  });

  it('nudges a directory person in their DM through their Slack id, and skips one without a Slack identity', async () => {
    const { destinations, calls } = setup({
      directory: [
        { platform: 'slack', tenant: 'T1', user: 'U42', emp_no: '42' },
        { platform: 'teams', tenant: 'X', user: 'aad-7', emp_no: '7' },
      ],
    });
    await destinations.nudge(dest, poll, 'emp:42');
    await destinations.nudge(dest, poll, 'emp:7');
    await destinations.nudge(dest, poll, 'web::someone');
    await destinations.nudge(dest, poll, 'slack:T1:U9');
    expect(calls.map((c) => c.args.channel)).toEqual(['U42', 'U9']);
    expect(JSON.stringify(calls[0]?.args.blocks)).toContain('lunch-nudge-opt-out');
  });

  it('fails loudly when the app is not installed in the workspace (the run stays unposted)', async () => {
    const { destinations } = setup();
    await expect(
      destinations.postPoll(
        { ...dest, workspace: 'slack:T9' },
        poll,
        buildSnapshot(poll, { version: 1, status: 'open', totalVoters: 0, counts: {} }),
      ),
    ).rejects.toThrow(/not installed/);
  });
});
