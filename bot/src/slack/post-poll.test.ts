import { buildPoll, buildSnapshot } from '@livevote/core';
import type { WebClient } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { PollMessageUntracked, postPollMessage } from './post-poll.ts';

/** The three calls posting makes, as Slack answers them. */
function slack() {
  const calls: string[] = [];
  const client = {
    chat: {
      postMessage: async () => {
        calls.push('chat.postMessage');
        return { ok: true, channel: 'C1', ts: '1.1' };
      },
      delete: async (a: { channel: string; ts: string }) => {
        calls.push(`chat.delete ${a.channel} ${a.ts}`);
        return { ok: true };
      },
    },
    pins: {
      add: async () => {
        calls.push('pins.add');
        return { ok: true };
      },
    },
  } as unknown as WebClient;
  return { calls, client };
}

describe('postPollMessage', () => {
  const poll = buildPoll({ template: 'choice', title: 'T', options: ['A', 'B'] }, 'pp1', new Date());
  const snapshot = buildSnapshot(poll, { version: 0, status: 'open', totalVoters: 0, counts: {} });
  const target = { channel: 'C1', team: 'T1', workspace: 'slack:T1' };
  const log = { warn() {} };

  it('posts, pins and tracks the message', async () => {
    const { calls, client } = slack();
    const tracked: string[] = [];
    const deps = {
      tally: { track: async (m: { message_id: string }) => void tracked.push(m.message_id) },
      publicUrl: 'https://x',
      log,
    };
    expect(await postPollMessage(deps, client, target, poll, snapshot)).toEqual({ channel: 'C1', ts: '1.1' });
    expect(calls).toEqual(['chat.postMessage', 'pins.add']);
    expect(tracked).toEqual(['1.1']);
  });

  it('takes the message down again when tracking it fails (the database did not answer), and says so', async () => {
    const { calls, client } = slack();
    const deps = {
      tally: {
        track: async () => {
          throw new Error('connection terminated');
        },
      },
      publicUrl: 'https://x',
      log,
    };
    const err = await postPollMessage(deps, client, target, poll, snapshot).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PollMessageUntracked);
    expect(calls).toEqual(['chat.postMessage', 'pins.add', 'chat.delete C1 1.1']);
  });
});
