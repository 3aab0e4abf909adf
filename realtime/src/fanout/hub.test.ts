// The hub's own guarantees with fake subscribers on a real (embedded) store: coalescing, ordering, the slow client.
import { PGlite } from '@electric-sql/pglite';
import {
  type Core,
  castVote,
  createCore,
  createPgliteStore,
  createPoll,
  EventPath,
  MemoryBus,
  type Snapshots,
  type Store,
  webVoter,
} from '@livevote/core';
import type { ServerFrame, Snapshot } from '@livevote/core/protocol';
import { choicePoll, TEST_ANONYMITY_KEY, webVote } from '@livevote/core/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { Hub, PRESENCE_EVERY_MS, type Subscriber } from './hub.ts';
import type { PreparedFrame } from './prepared-frame.ts';

class FakeSub implements Subscriber {
  static n = 0;
  readonly id = `sub-${FakeSub.n++}`;
  constructor(readonly originalClient = false) {}
  frames: PreparedFrame[] = [];
  accept = true;
  isDrained = true;
  /** Tally frames offered to it, accepted or not (presence is best-effort and not counted). */
  voteOffers = 0;
  deliver(frames: PreparedFrame[]) {
    if (frames.some((f) => f.type === 'vote_update')) this.voteOffers++;
    if (!this.accept) return false;
    this.frames.push(...frames);
    return true;
  }
  drained() {
    return this.isDrained;
  }
  versions() {
    return this.frames.filter((f) => f.type === 'vote_update').map((f) => f.version as number);
  }
  /** The frames that carried version v, as the client reads them. */
  at(v: number): ServerFrame[] {
    return this.frames.filter((f) => f.version === v).map((f) => f.frame);
  }
}

describe('Hub', () => {
  let db: PGlite;
  let store: Store;
  let core: Core;
  let hub: Hub;
  beforeAll(async () => {
    db = await PGlite.create();
    store = await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY });
    core = createCore(store, new MemoryBus());
    hub = new Hub({ polls: store, bus: core.bus, events: core.events, coalesceMs: 200 });
    hub.start();
  });
  afterAll(async () => {
    hub.stop();
    await db.close();
  });

  const poll = () => choicePoll(core);
  const vote = (pollId: string, emp: number, o = 'o1') => webVote(core, pollId, emp, o);

  it('sends the first change at once and merges a burst into few, increasing snapshots ending on the last', async () => {
    const id = await poll();
    const sub = new FakeSub();
    hub.join(sub, id);
    await hub.sendCurrent(sub, id);
    expect(sub.versions()).toEqual([0]);
    await vote(id, 1);
    await Promise.resolve();
    expect(sub.versions()).toEqual([0, 1]); // at once, no window to wait for
    for (let i = 2; i <= 11; i++) await vote(id, i);
    await expect.poll(() => sub.versions().at(-1)).toBe(11);
    const v = sub.versions();
    expect(v.length).toBeLessThan(8); // 10 votes, merged
    expect(v.every((x, i) => i === 0 || x > (v[i - 1] as number))).toBe(true);
    hub.leaveAll(sub);
  });

  it('lets a short burst through at once (a steady stream is never held back), then paces and merges', async () => {
    const id = await poll();
    const sub = new FakeSub();
    hub.join(sub, id);
    await hub.sendCurrent(sub, id);
    const base = await core.snapshots.fresh(id);
    if (!base) throw new Error('no snapshot');
    for (const version of [1, 2, 3]) {
      hub.offer({ ...base, version });
      expect(sub.versions().at(-1)).toBe(version); // delivered synchronously: the bucket holds 3
    }
    hub.offer({ ...base, version: 4 });
    hub.offer({ ...base, version: 5 });
    expect(sub.versions().at(-1)).toBe(3); // out of tokens: waits for the next one...
    await expect.poll(() => sub.versions().at(-1)).toBe(5);
    expect(sub.versions()).toEqual([0, 1, 2, 3, 5]); // ... and 4 and 5 went out merged, as 5
    hub.leaveAll(sub);
  });

  it('ignores a snapshot older than what it has sent', async () => {
    const id = await poll();
    const sub = new FakeSub();
    hub.join(sub, id);
    await hub.sendCurrent(sub, id);
    await vote(id, 1);
    const old = await core.snapshots.fresh(id);
    await vote(id, 2, 'o2');
    await expect.poll(() => sub.versions().at(-1)).toBe(2);
    if (old) hub.offer({ ...old, version: 1 });
    await new Promise((r) => setTimeout(r, 250));
    expect(sub.versions().at(-1)).toBe(2);
    hub.leaveAll(sub);
  });

  it('skips a backed-up subscriber and, once it drains, sends it only the newest snapshot', async () => {
    const id = await poll();
    const slow = new FakeSub();
    const fast = new FakeSub();
    for (const s of [slow, fast]) {
      hub.join(s, id);
      await hub.sendCurrent(s, id);
    }
    slow.accept = false;
    slow.isDrained = false;
    await vote(id, 1);
    await expect.poll(() => slow.voteOffers).toBe(2); // the initial snapshot, then the one it could not take
    const offersWhileBehind = slow.voteOffers;
    for (let i = 2; i <= 5; i++) await vote(id, i);
    await expect.poll(() => fast.versions().at(-1)).toBe(5);
    expect(slow.voteOffers).toBe(offersWhileBehind); // not even offered: nothing piles up for it
    slow.accept = true;
    slow.isDrained = true;
    await expect.poll(() => slow.versions().at(-1)).toBe(5);
    expect(slow.frames.filter((f) => f.type === 'vote_update').map((f) => f.version)).toEqual([0, 5]);
    for (const s of [slow, fast]) hub.leaveAll(s);
  });

  it('shares the very same frame objects between subscribers of one broadcast', async () => {
    const id = await poll();
    const a = new FakeSub();
    const b = new FakeSub();
    for (const s of [a, b]) {
      hub.join(s, id);
      await hub.sendCurrent(s, id);
    }
    await vote(id, 1);
    await expect.poll(() => a.versions().at(-1)).toBe(1);
    const fa = a.frames.find((f) => f.type === 'vote_update' && f.version === 1);
    const fb = b.frames.find((f) => f.type === 'vote_update' && f.version === 1);
    expect(fa).toBe(fb);
    for (const s of [a, b]) hub.leaveAll(s);
  });

  it('sends one frame per change, with the leader change folded into the vote_update', async () => {
    const id = await poll();
    const sub = new FakeSub();
    hub.join(sub, id);
    await hub.sendCurrent(sub, id);
    await vote(id, 1, 'o2');
    await expect.poll(() => sub.versions().at(-1)).toBe(1);
    const frames = sub.at(1);
    expect(frames.map((f) => f.type)).toEqual(['vote_update']);
    expect(frames[0]?.type === 'vote_update' && frames[0].data.leader_changed).toEqual([
      { question_id: 'q1', option_id: 'o2', label: 'b' },
    ]);
    await vote(id, 2, 'o2'); // o2 still leads: nothing to report
    await expect.poll(() => sub.versions().at(-1)).toBe(2);
    expect(sub.at(2).map((f) => f.type)).toEqual(['vote_update']);
    expect(sub.at(2)[0]?.data).not.toHaveProperty('leader_changed');
    hub.leaveAll(sub);
  });

  it('also sends the original client its per-option frames, in the same delivery, and nobody else', async () => {
    const created = await createPoll(
      core,
      {
        template: 'lunch',
        places: [
          { name: 'Pizza', menus: [{ name: 'Margherita' }] },
          { name: 'Sushi', menus: [] },
        ],
      },
      { kind: 'admin' },
    );
    if (!created.ok) throw new Error(created.message);
    const id = created.value.poll.id;
    const original = new FakeSub(true);
    const board = new FakeSub();
    for (const s of [original, board]) {
      hub.join(s, id);
      await hub.sendCurrent(s, id);
    }
    const place = created.value.poll.questions[0]?.options[1]?.id as string;
    await castVote(core, { pollId: id, questionId: 'place', optionIds: [place], voter: webVoter('5') });
    await expect.poll(() => original.versions().at(-1)).toBe(1);
    await expect.poll(() => board.versions().at(-1)).toBe(1);
    expect(original.at(1).map((f) => f.type)).toEqual(['vote_update', 'place_vote']);
    expect(original.at(1)[1]?.data).toEqual({
      poll_id: id,
      version: 1,
      place_id: place,
      place_name: 'Sushi',
      vote_count: 1,
    });
    expect(board.at(1).map((f) => f.type)).toEqual(['vote_update']);
    for (const s of [original, board]) hub.leaveAll(s);
  });

  it('puts the audience in the first snapshot a subscriber gets, and a change of it in the next broadcast', async () => {
    const id = await poll();
    const first = new FakeSub();
    hub.join(first, id);
    await hub.sendCurrent(first, id);
    expect(first.frames.map((f) => f.type)).toEqual(['vote_update']);
    expect(first.at(0)[0]?.data).toMatchObject({ presence: { online_count: 1, voting_count: 0 } });
    const second = new FakeSub();
    hub.join(second, id); // the audience grew; the next broadcast says so
    await hub.sendCurrent(second, id);
    await vote(id, 1);
    await expect.poll(() => first.versions().at(-1)).toBe(1);
    expect(first.at(1).map((f) => f.type)).toEqual(['vote_update']);
    expect(first.at(1)[0]?.data).toMatchObject({ presence: { online_count: 2, voting_count: 0 } });
    await vote(id, 2);
    await expect.poll(() => first.versions().at(-1)).toBe(2);
    expect(first.at(2)[0]?.data).not.toHaveProperty('presence'); // unchanged since
    for (const s of [first, second]) hub.leaveAll(s);
  });

  it('picks up changes it never heard of when it recovers (bus outage)', async () => {
    const id = await poll();
    const sub = new FakeSub();
    hub.join(sub, id);
    await hub.sendCurrent(sub, id);
    // Another instance: same database, its own bus and event path, so this hub hears nothing.
    const elsewhere = createCore(store, new MemoryBus());
    await castVote(elsewhere, { pollId: id, questionId: 'q1', optionIds: ['o2'], voter: webVoter('77') });
    await new Promise((r) => setTimeout(r, 50));
    expect(sub.versions()).toEqual([0]);
    await hub.recover();
    await expect.poll(() => sub.versions().at(-1)).toBe(1);
    hub.leaveAll(sub);
    expect(hub.onlineCount(id)).toBe(0);
  });
});

describe('Hub presence between votes', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('goes out on its own when no broadcast carries it, at most once per PRESENCE_EVERY_MS per poll', async () => {
    vi.useFakeTimers({
      toFake: ['setTimeout', 'setInterval', 'clearTimeout', 'clearInterval', 'Date', 'performance'],
    });
    const snapshot: Snapshot = {
      poll_id: 'p1',
      version: 3,
      status: 'open',
      results_hidden: false,
      total_voters: 0,
      leader: null,
      questions: [],
    };
    const bus = new MemoryBus();
    const snapshots = { fresh: async () => snapshot, forget() {} } as unknown as Snapshots;
    const events = new EventPath({ snapshots, bus });
    const hub = new Hub({ polls: { versions: async () => new Map() }, bus, events });
    hub.start();
    const watcher = new FakeSub();
    hub.join(watcher, 'p1');
    await hub.sendCurrent(watcher, 'p1');
    const presence = () => watcher.frames.flatMap((f) => (f.frame.type === 'presence' ? [f.frame.data] : []));
    const other = new FakeSub();
    hub.join(other, 'p1');
    await vi.advanceTimersByTimeAsync(250);
    expect(presence()).toEqual([{ poll_id: 'p1', online_count: 2, voting_count: 0 }]);
    hub.voting(other, 'p1');
    await vi.advanceTimersByTimeAsync(PRESENCE_EVERY_MS - 300);
    expect(presence()).toHaveLength(1); // changed, but the last one went out less than a second ago
    const third = new FakeSub();
    hub.join(third, 'p1'); // a second change within the same second: merged with the first
    await vi.advanceTimersByTimeAsync(300);
    expect(presence()).toEqual([
      { poll_id: 'p1', online_count: 2, voting_count: 0 },
      { poll_id: 'p1', online_count: 3, voting_count: 1 },
    ]);
    await vi.advanceTimersByTimeAsync(3 * PRESENCE_EVERY_MS);
    expect(presence()).toHaveLength(2); // nothing changed since: nothing more
    hub.stop();
    events.stop();
  });
});

describe('Hub broadcasts to many subscribers', () => {
  const snap = (version: number): Snapshot => ({
    poll_id: 'p1',
    version,
    status: 'open',
    results_hidden: false,
    total_voters: 0,
    leader: null,
    questions: [],
  });

  it('writes in slices, letting the event loop run between them, and never out of order', async () => {
    const bus = new MemoryBus();
    const snapshots = { fresh: async () => snap(0), forget() {} } as unknown as Snapshots;
    const events = new EventPath({ snapshots, bus });
    // sliceMs 0: one socket per turn of the loop, so the slicing shows with a handful of subscribers.
    const hub = new Hub({
      polls: { versions: async () => new Map() },
      bus,
      events,
      sliceMs: 0,
      coalesceMs: 1,
    });
    hub.start();
    const subs = Array.from({ length: 5 }, () => new FakeSub());
    for (const s of subs) {
      hub.join(s, 'p1');
      await hub.sendCurrent(s, 'p1');
    }
    hub.offer(snap(1));
    expect(subs.map((s) => s.versions().at(-1))).toEqual([1, 0, 0, 0, 0]); // the rest wait for the next turns
    // Other work gets its turn between slices: a callback queued now runs after the next slice, before the rest.
    const atNextTurn = await new Promise((r) => setImmediate(() => r(subs.map((s) => s.versions().at(-1)))));
    expect(atNextTurn).toEqual([1, 1, 0, 0, 0]);
    hub.offer(snap(2)); // arrives while 1 is being written: goes out after it, to everyone
    hub.offer(snap(3));
    await expect.poll(() => subs.every((s) => s.versions().at(-1) === 3)).toBe(true);
    for (const s of subs) expect(s.versions()).toEqual([0, 1, 3]); // 2 and 3 merged; never 3 before 1
    hub.stop();
    events.stop();
  });

  /** A socket that takes 10 ms to write to (a busy machine, thousands of sockets). */
  class SlowSub extends FakeSub {
    readonly wroteAt = new Map<number, number>();
    override deliver(frames: PreparedFrame[]) {
      const until = performance.now() + 10;
      while (performance.now() < until) {} // busy: the loop is held, as a real write loop holds it
      for (const f of frames)
        if (f.version !== undefined && !this.wroteAt.has(f.version)) this.wroteAt.set(f.version, until);
      return super.deliver(frames);
    }
  }
  /** A hub over snapshots of any poll at version 0, with broadcasts paced only by their rest. */
  function restingHub(restFactor: number) {
    const bus = new MemoryBus();
    const snapshots = {
      fresh: async (pollId: string) => ({ ...snap(0), poll_id: pollId }),
      forget() {},
    } as unknown as Snapshots;
    const events = new EventPath({ snapshots, bus });
    const hub = new Hub({
      polls: { versions: async () => new Map() },
      bus,
      events,
      coalesceMs: 1,
      burst: 1,
      restFactor,
    });
    hub.start();
    return {
      hub,
      stop: () => {
        hub.stop();
        events.stop();
      },
    };
  }

  it('rests restFactor times as long as a slow broadcast took before the next, merging what came meanwhile', async () => {
    const { hub, stop } = restingHub(2);
    const subs = [new SlowSub(), new SlowSub(), new SlowSub()];
    for (const s of subs) {
      hub.join(s, 'p1');
      await hub.sendCurrent(s, 'p1');
    }
    hub.offer(snap(1)); // ~30 ms of writing, in slices
    hub.offer(snap(2));
    hub.offer(snap(3));
    await expect.poll(() => subs.every((s) => s.versions().at(-1) === 3)).toBe(true);
    for (const s of subs) expect(s.versions()).toEqual([0, 1, 3]); // 2 and 3 went out together
    const written = (v: number) => subs.map((s) => s.wroteAt.get(v) as number);
    const start1 = Math.min(...written(1)) - 10;
    const end1 = Math.max(...written(1));
    const start3 = Math.min(...written(3)) - 10;
    // Not before twice the first broadcast's own writing had passed.
    expect(start3 - end1).toBeGreaterThanOrEqual(2 * (end1 - start1) * 0.9);
    stop();
  });

  it('makes every poll on the instance rest after a heavy broadcast, not only the poll that sent it', async () => {
    const { hub, stop } = restingHub(3);
    const heavy = [new SlowSub(), new SlowSub(), new SlowSub()];
    const light = new SlowSub();
    for (const s of heavy) {
      hub.join(s, 'p1');
      await hub.sendCurrent(s, 'p1');
    }
    hub.join(light, 'p2');
    await hub.sendCurrent(light, 'p2');
    hub.offer(snap(1)); // p1: ~30 ms of writing
    await expect.poll(() => heavy.every((s) => s.versions().at(-1) === 1)).toBe(true);
    const end1 = Math.max(...heavy.map((s) => s.wroteAt.get(1) as number));
    const start1 = Math.min(...heavy.map((s) => s.wroteAt.get(1) as number)) - 10;
    hub.offer({ ...snap(1), poll_id: 'p2' });
    await expect.poll(() => light.versions().at(-1)).toBe(1);
    const startP2 = (light.wroteAt.get(1) as number) - 10;
    expect(startP2 - end1).toBeGreaterThanOrEqual(3 * (end1 - start1) * 0.9);
    stop();
  });
});
