// The event path on a real (embedded) store and the in-process bus: one read per commit, each version once to each
// subscriber whatever its source, interest-based watching, and publishes paced per poll under a burst.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_ANONYMITY_KEY } from '../../testing/index.ts';
import { choicePoll, webVote } from '../../testing/polls.ts';
import { RecordingBus } from '../../testing/recording-bus.ts';
import { createPgliteStore } from '../adapters/pglite/pglite-store.ts';
import { webVoter } from '../domain/voter.ts';
import type { Store } from '../ports/store.ts';
import { castVote } from './cast-vote.ts';
import { type Core, createCore } from './core.ts';
import { closePoll } from './manage-polls.ts';

describe('EventPath', () => {
  let db: PGlite;
  let store: Store;
  let bus: RecordingBus;
  let core: Core;
  beforeAll(async () => {
    db = await PGlite.create();
    store = await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY });
    bus = new RecordingBus();
    core = createCore(store, bus, { publishEveryMs: 100, burst: 2 });
  });
  afterAll(async () => {
    core.events.stop();
    await db.close();
  });

  const newPoll = () => choicePoll(core);
  const vote = (pollId: string, emp: number, o = 'o1') => webVote(core, pollId, emp, o);

  it('hands each version to a subscriber once, whether it came from this process or from the bus', async () => {
    const id = await newPoll();
    await new Promise((r) => setImmediate(r)); // the create's own delivery (v0) happens first: not watched here
    const seen: number[] = [];
    const off = core.events.subscribe((s) => s.poll_id === id && seen.push(s.version));
    const w = core.events.watch(id);
    const r = await vote(id, 1);
    if (!r.ok) throw new Error(r.message);
    // The same version echoed back by the bus (Redis does echo) and an older one: neither is delivered again.
    bus.arrive({
      type: 'poll_version',
      poll_id: id,
      version: r.value.snapshot.version,
      snapshot: r.value.snapshot,
    });
    bus.arrive({
      type: 'poll_version',
      poll_id: id,
      version: 0,
      snapshot: { ...r.value.snapshot, version: 0 },
    });
    // A newer one from another instance is.
    const newer = { ...r.value.snapshot, version: r.value.snapshot.version + 5 };
    bus.arrive({ type: 'poll_version', poll_id: id, version: newer.version, snapshot: newer });
    expect(seen).toEqual([r.value.snapshot.version, newer.version]);
    off();
    w.release();
  });

  it('publishes a commit before this process hears it, and this process after the voter has its answer', async () => {
    const id = await newPoll();
    await new Promise((r) => setTimeout(r, 250)); // the create's publish leaves the bucket; let it refill
    const order: string[] = [];
    const off = core.events.subscribe((s) => {
      if (s.poll_id !== id) return;
      const onBus = bus.published.some(
        (e) => e.type === 'poll_version' && e.poll_id === id && e.version === s.version,
      );
      order.push(`local v${s.version}${onBus ? ' (already on the bus)' : ''}`);
    });
    const r = await vote(id, 7);
    order.push(`answered v${r.ok ? r.value.snapshot.version : '?'}`);
    expect(bus.published.at(-1)).toMatchObject({ type: 'poll_version', poll_id: id, version: 1 });
    await new Promise((resolve) => setImmediate(resolve));
    expect(order).toEqual(['answered v1', 'local v1 (already on the bus)']);
    off();
  });

  it('stamps what it publishes with the time, and reports how long a message from the bus took', async () => {
    const delays: number[] = [];
    const own = createCore(store, bus, { onBusDelay: (s) => delays.push(s) });
    const id = await newPoll();
    const r = await vote(id, 8);
    if (!r.ok) throw new Error(r.message);
    const sent = bus.published.at(-1);
    expect(sent?.type === 'poll_version' && typeof sent.sent_at).toBe('number');
    bus.arrive({
      type: 'poll_version',
      poll_id: id,
      version: r.value.snapshot.version + 1,
      snapshot: { ...r.value.snapshot, version: r.value.snapshot.version + 1 },
      sent_at: Date.now() - 40,
    });
    expect(delays).toHaveLength(1);
    expect(delays[0]).toBeGreaterThanOrEqual(0.04);
    expect(delays[0]).toBeLessThan(10);
    own.events.stop();
  });

  it('watches a poll on the bus while someone holds interest in it, counting holders', async () => {
    const id = await newPoll();
    const a = core.events.watch(id);
    const b = core.events.watch(id);
    await a.ready;
    expect(bus.watching().has(id)).toBe(true);
    a.release();
    a.release(); // releasing twice is harmless
    expect(bus.watching().has(id)).toBe(true);
    b.release();
    expect(bus.watching().has(id)).toBe(false);
  });

  it('publishes a burst of commits as few paced messages that end on the final version', async () => {
    const id = await newPoll();
    await new Promise((r) => setTimeout(r, 250)); // the create's publish leaves the bucket; let it refill
    const before = bus.published.filter((e) => e.poll_id === id).length;
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => vote(id, 100 + i, i % 2 ? 'o1' : 'o2')),
    );
    const last = Math.max(...results.map((r) => (r.ok ? r.value.snapshot.version : 0)));
    await expect
      .poll(() => bus.published.filter((e) => e.poll_id === id && e.type === 'poll_version').at(-1))
      .toMatchObject({ version: last });
    const sent = bus.published.filter((e) => e.poll_id === id).slice(before);
    expect(sent.length).toBeLessThan(40);
    const versions = sent.map((e) => (e.type === 'poll_version' ? e.version : -1));
    expect(versions).toEqual([...versions].sort((x, y) => x - y)); // never an older one after a newer one
  });

  it('publishes a definition change as one event that makes receivers drop their cached definition', async () => {
    const id = await newPoll();
    await new Promise((r) => setTimeout(r, 250));
    const before = bus.published.length;
    const closed = await closePoll(core, id, { kind: 'admin' });
    expect(closed.ok).toBe(true);
    await expect.poll(() => bus.published.length).toBe(before + 1);
    expect(bus.published.at(-1)).toMatchObject({
      type: 'poll_version',
      poll_id: id,
      definition_changed: true,
    });

    // A receiver that cached the open poll re-reads it when the event says the definition changed.
    const other = createCore(store, new RecordingBus());
    const otherBus = other.bus as RecordingBus;
    const cached = await other.snapshots.poll(id);
    expect(cached?.status).toBe('closed');
    const id2 = await newPoll();
    expect((await other.snapshots.poll(id2))?.status).toBe('open');
    await store.closePoll(id2, 'admin'); // closed behind the other instance's back
    const fresh = await core.events.committed(id2, { definitionChanged: true });
    if (!fresh) throw new Error('no snapshot');
    otherBus.arrive({
      type: 'poll_version',
      poll_id: id2,
      version: fresh.version,
      snapshot: fresh,
      definition_changed: true,
    });
    expect((await other.snapshots.poll(id2))?.status).toBe('closed');
    other.events.stop();
  });

  it('refresh delivers news locally without publishing it', async () => {
    const id = await newPoll();
    await new Promise((r) => setTimeout(r, 250));
    const elsewhere = createCore(store, new RecordingBus());
    await castVote(elsewhere, { pollId: id, questionId: 'q1', optionIds: ['o2'], voter: webVoter('7') });
    const before = bus.published.length;
    const seen: number[] = [];
    const off = core.events.subscribe((s) => s.poll_id === id && seen.push(s.version));
    const s = await core.events.refresh(id);
    expect(seen).toEqual([s?.version]);
    expect(bus.published.length).toBe(before);
    off();
    elsewhere.events.stop();
  });
});
