// Presence counting on a hand-driven clock and a bus that only records what is published: local counts, the
// voting TTL, other instances' shares (summed, then dropped when they stop repeating), and what tick() publishes.
import type { BusEvent } from '@livevote/core';
import { RecordingBus as BaseRecordingBus } from '@livevote/core/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { HEARTBEAT_MS, Presence, REMOTE_TTL_MS, VOTING_TTL_MS } from './presence.ts';

type PresenceEvent = Extract<BusEvent, { type: 'presence' }>;

class RecordingBus extends BaseRecordingBus {
  /** What was published since the last call, as poll id -> counts. */
  take(): Record<string, { online: number; voting: number }> {
    const out: Record<string, { online: number; voting: number }> = {};
    for (const e of this.published.splice(0)) {
      if (e.type !== 'presence') throw new Error(`unexpected ${e.type}`);
      expect(e.instance).toBe('here');
      out[e.poll_id] = { online: e.online, voting: e.voting };
    }
    return out;
  }
}

const remote = (instance: string, online: number, voting: number, poll_id = 'p'): PresenceEvent => ({
  type: 'presence',
  poll_id,
  instance,
  online,
  voting,
});

describe('Presence', () => {
  let t: number;
  let bus: RecordingBus;
  let changed: string[];
  let presence: Presence;
  beforeEach(() => {
    t = 1_000_000;
    bus = new RecordingBus();
    changed = [];
    presence = new Presence(
      bus,
      'here',
      (pollId) => changed.push(pollId),
      () => t,
    );
  });

  it('counts this instance’s online subscribers per poll, and says when a count changes', () => {
    presence.setOnline('p', 3);
    presence.setOnline('q', 1);
    expect(presence.totals('p')).toEqual({ online: 3, voting: 0 });
    expect(presence.totals('q')).toEqual({ online: 1, voting: 0 });
    expect(presence.totals('elsewhere')).toEqual({ online: 0, voting: 0 });
    expect(changed).toEqual(['p', 'q']);
    presence.setOnline('p', 3);
    expect(changed).toEqual(['p', 'q']); // same count: no news
  });

  it('counts each voting subscriber once, and stops when it leaves', () => {
    presence.setOnline('p', 3);
    presence.voting('p', 's1');
    presence.voting('p', 's2');
    presence.voting('p', 's1');
    expect(presence.totals('p')).toEqual({ online: 3, voting: 2 });
    expect(changed).toEqual(['p', 'p', 'p']); // the repeat is not news
    presence.forget('s1');
    expect(presence.totals('p')).toEqual({ online: 3, voting: 1 });
    presence.forget('nobody');
    expect(changed).toEqual(['p', 'p', 'p', 'p']);
  });

  it('stops counting a voter VOTING_TTL_MS after its last voting frame', () => {
    presence.voting('p', 's1');
    t += VOTING_TTL_MS;
    presence.tick();
    expect(presence.totals('p').voting).toBe(1); // exactly at the TTL: still voting
    presence.voting('p', 's1'); // repeated: counts for another TTL from now
    t += VOTING_TTL_MS;
    presence.tick();
    expect(presence.totals('p').voting).toBe(1);
    changed.length = 0;
    t += 1;
    presence.tick();
    expect(presence.totals('p').voting).toBe(0);
    expect(changed).toEqual(['p']);
  });

  it('adds other instances’ counts to its own', () => {
    presence.setOnline('p', 3);
    presence.voting('p', 's1');
    presence.receive(remote('b', 5, 1));
    presence.receive(remote('c', 2, 0));
    presence.receive(remote('c', 4, 2, 'other-poll'));
    expect(presence.totals('p')).toEqual({ online: 10, voting: 2 });
    expect(presence.totals('other-poll')).toEqual({ online: 4, voting: 2 });
  });

  it('replaces an instance’s count with its newest, and says so only when it changed', () => {
    presence.receive(remote('b', 5, 1));
    presence.receive(remote('b', 6, 1));
    expect(presence.totals('p')).toEqual({ online: 6, voting: 1 });
    changed.length = 0;
    presence.receive(remote('b', 6, 1)); // a heartbeat: same counts
    expect(changed).toEqual([]);
  });

  it('drops an instance that stops repeating its count for REMOTE_TTL_MS', () => {
    presence.setOnline('p', 1);
    presence.receive(remote('b', 5, 1));
    presence.receive(remote('c', 2, 0));
    t += REMOTE_TTL_MS / 2;
    presence.receive(remote('c', 2, 0)); // c is alive, b has gone quiet
    t += REMOTE_TTL_MS / 2;
    expect(presence.totals('p')).toEqual({ online: 8, voting: 1 }); // exactly at b's TTL: still counted
    t += 1;
    expect(presence.totals('p')).toEqual({ online: 3, voting: 0 });
    changed.length = 0;
    presence.tick();
    expect(changed).toEqual(['p']); // b's share is gone: the poll's count changed
    t += REMOTE_TTL_MS / 2;
    expect(presence.totals('p')).toEqual({ online: 1, voting: 0 });
  });

  it('ignores its own counts coming back over the bus', () => {
    presence.setOnline('p', 2);
    changed.length = 0;
    presence.receive(remote('here', 2, 0));
    expect(presence.totals('p')).toEqual({ online: 2, voting: 0 });
    expect(changed).toEqual([]);
  });

  it('publishes the polls whose counts changed, and every poll it serves once per heartbeat', () => {
    presence.setOnline('p', 2);
    presence.setOnline('q', 1);
    presence.tick();
    expect(bus.take()).toEqual({ p: { online: 2, voting: 0 }, q: { online: 1, voting: 0 } });
    t += 100;
    presence.voting('p', 's1');
    presence.tick();
    expect(bus.take()).toEqual({ p: { online: 2, voting: 1 } }); // only what changed
    t += 100;
    presence.tick();
    expect(bus.take()).toEqual({}); // nothing changed, no heartbeat due
    t += HEARTBEAT_MS;
    presence.tick();
    expect(bus.take()).toEqual({ p: { online: 2, voting: 1 }, q: { online: 1, voting: 0 } });
  });

  it('publishes a poll it no longer serves once with zero counts, then leaves it out of heartbeats', () => {
    presence.setOnline('p', 2);
    presence.setOnline('q', 1);
    presence.tick();
    bus.take();
    presence.setOnline('q', 0);
    presence.tick();
    expect(bus.take()).toEqual({ q: { online: 0, voting: 0 } }); // so the other instances drop it at once
    t += HEARTBEAT_MS;
    presence.tick();
    expect(bus.take()).toEqual({ p: { online: 2, voting: 0 } });
  });

  it('also leaves out a poll whose last voter expired after its subscribers left', () => {
    presence.setOnline('p', 2);
    presence.setOnline('q', 1);
    presence.voting('q', 's1');
    presence.setOnline('q', 0); // s1's voting frame still counts
    presence.tick();
    expect(bus.take()).toEqual({ p: { online: 2, voting: 0 }, q: { online: 0, voting: 1 } });
    t += VOTING_TTL_MS + 1;
    presence.tick();
    expect(bus.take()).toEqual({ p: { online: 2, voting: 0 }, q: { online: 0, voting: 0 } });
    t += HEARTBEAT_MS;
    presence.tick();
    expect(bus.take()).toEqual({ p: { online: 2, voting: 0 } });
  });

  it('publishes a voter’s expiry', () => {
    presence.setOnline('p', 1);
    presence.voting('p', 's1');
    presence.tick();
    expect(bus.take()).toEqual({ p: { online: 1, voting: 1 } });
    t += VOTING_TTL_MS + 1;
    presence.tick();
    expect(bus.take()).toEqual({ p: { online: 1, voting: 0 } });
  });

  it('publishes nothing for other instances’ counts', () => {
    presence.receive(remote('b', 5, 1));
    presence.tick();
    expect(bus.take()).toEqual({});
  });
});
