// The hub's own guarantees with fake subscribers on a real (embedded) store: coalescing, ordering, the slow client.
import { PGlite } from '@electric-sql/pglite';
import {
  type Core,
  castVote,
  createCore,
  createPgliteStore,
  MemoryBus,
  type Store,
  webVoter,
} from '@livevote/core';
import { choicePoll, TEST_ANONYMITY_KEY, webVote } from '@livevote/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Hub, type Subscriber } from './hub.ts';
import type { PreparedFrame } from './prepared-frame.ts';

class FakeSub implements Subscriber {
  static n = 0;
  readonly id = `sub-${FakeSub.n++}`;
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
