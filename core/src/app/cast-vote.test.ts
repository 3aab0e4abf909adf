// The per-voter limit as castVote applies it, on a real (embedded) store: every edge's votes pass through here, so
// the limit is keyed by the voter's one key, counts only calls that reach the store, and refuses as a value.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EmbeddedCore, embeddedCore } from '../../testing/index.ts';
import { choicePoll } from '../../testing/polls.ts';
import { MemoryBus } from '../adapters/memory-bus.ts';
import { type Voter, webVoter } from '../domain/voter.ts';
import type { Admission, RateLimit } from '../ports/rate-limit.ts';
import type { Store } from '../ports/store.ts';
import { castVote, retractVote } from './cast-vote.ts';
import { type Core, createCore } from './core.ts';
import { addOption, createPoll } from './manage-polls.ts';
import { settlePoll } from './settle-poll.ts';

/** Allows `allowance` calls per key, then refuses with a fixed wait; records every key it was asked about. */
class CountingLimit implements RateLimit {
  readonly keys: string[] = [];
  constructor(private readonly allowance: number) {}
  async take(key: string): Promise<Admission> {
    this.keys.push(key);
    const used = this.keys.filter((k) => k === key).length;
    return used <= this.allowance ? { ok: true } : { ok: false, retryAfterMs: 1_500 };
  }
}

describe('castVote with a vote limit', () => {
  let embedded: EmbeddedCore;
  let store: Store;
  let limit: CountingLimit;
  let core: Core;
  beforeAll(async () => {
    limit = new CountingLimit(3);
    embedded = await embeddedCore({ options: { voteLimit: limit } });
    ({ store, core } = embedded);
  });
  afterAll(() => embedded.close());

  const cast = (pollId: string, voter: Voter, option = 'o1') =>
    castVote(core, { pollId, questionId: 'q1', optionIds: [option], voter });

  it('refuses a voter past the limit with rate_limited and a wait, and leaves the tally alone', async () => {
    const id = await choicePoll(core);
    const voter = webVoter('501');
    for (const o of ['o1', 'o2', 'o1']) expect((await cast(id, voter, o)).ok).toBe(true);
    const before = await store.readTally(id);
    const refused = await cast(id, voter, 'o2');
    expect(refused).toMatchObject({ ok: false, reason: 'rate_limited', retryAfterMs: 1_500 });
    expect(!refused.ok && refused.message).toContain('2 s');
    expect((await store.readTally(id))?.version).toBe(before?.version);
    // Taking a vote back is a change too.
    expect(await retractVote(core, { pollId: id, voter })).toMatchObject({
      ok: false,
      reason: 'rate_limited',
    });
    // Another voter is untouched.
    expect((await cast(id, webVoter('502'))).ok).toBe(true);
  });

  it('answers a repeat of a vote that already counted with its first answer, even past the limit', async () => {
    const id = await choicePoll(core);
    const voter = webVoter('601');
    const keyed = (option: string, idempotencyKey: string) =>
      castVote(core, { pollId: id, questionId: 'q1', optionIds: [option], voter, idempotencyKey });
    expect(await keyed('o1', 'k1')).toMatchObject({ ok: true, value: { changed: true, replayed: false } });
    for (const o of ['o2', 'o1']) expect((await cast(id, voter, o)).ok).toBe(true);
    // Over the limit now: the lost answer's retry still gets its answer; a new change does not pass.
    expect(await keyed('o1', 'k1')).toMatchObject({ ok: true, value: { replayed: true, optionIds: ['o1'] } });
    expect(await keyed('o2', 'k2')).toMatchObject({ ok: false, reason: 'rate_limited' });
    expect(await keyed('o2', 'k1')).toMatchObject({ ok: false, reason: 'idempotency_key_reused' });
  });

  it('keys chat voters by their platform identity and does not count refused rules', async () => {
    const id = await choicePoll(core);
    const slack: Voter = { platform: 'slack', tenant: 'T1', user: 'U1' };
    const taken = limit.keys.length;
    const unknown = await castVote(core, { pollId: id, questionId: 'q1', optionIds: ['o9'], voter: slack });
    expect(unknown).toMatchObject({ ok: false, reason: 'unknown_option' });
    expect(limit.keys.length).toBe(taken);
    expect((await cast(id, slack)).ok).toBe(true);
    expect(limit.keys.at(-1)).toBe('slack:T1:U1');
  });
});

describe('castVote stage marks', () => {
  let embedded: EmbeddedCore;
  let core: Core;
  beforeAll(async () => {
    embedded = await embeddedCore();
    core = embedded.core;
  });
  afterAll(() => embedded.close());

  it('marks each stage once, in order; the local subscribers hear the change after the vote has its answer', async () => {
    const id = await choicePoll(core);
    await new Promise((resolve) => setImmediate(resolve)); // the poll's creation reached its subscribers
    const seen: string[] = [];
    const stop = core.events.subscribe((s) => seen.push(`deliver v${s.version}`));
    const r = await castVote(
      core,
      { pollId: id, questionId: 'q1', optionIds: ['o2'], voter: webVoter('9') },
      (stage) => seen.push(stage),
    );
    seen.push('answered');
    await new Promise((resolve) => setImmediate(resolve));
    stop();
    expect(r.ok).toBe(true);
    expect(seen).toEqual(['rules', 'commit', 'snapshot', 'answered', 'deliver v1']);
  });

  it('marks nothing past the rules a vote fails', async () => {
    const id = await choicePoll(core);
    const seen: string[] = [];
    const r = await castVote(
      core,
      { pollId: id, questionId: 'q1', optionIds: ['o9'], voter: webVoter('9') },
      (stage) => seen.push(stage),
    );
    expect(r).toMatchObject({ ok: false, reason: 'unknown_option' });
    expect(seen).toEqual([]);
  });
});

describe('castVote and the tally read after the commit', () => {
  let embedded: EmbeddedCore;
  let core: Core;
  let reads = 0;
  let definitionReads = 0;
  beforeAll(async () => {
    embedded = await embeddedCore({
      wrap: (store) => {
        const counted: Store = Object.create(store);
        counted.readTally = (id) => {
          reads++;
          return store.readTally(id);
        };
        counted.getPoll = (id) => {
          definitionReads++;
          return store.getPoll(id);
        };
        return counted;
      },
    });
    core = embedded.core;
  });
  afterAll(() => embedded.close());

  it('builds the answer and the broadcast from the tally the store read in the cast call, without a second read', async () => {
    const id = await choicePoll(core);
    await new Promise((resolve) => setImmediate(resolve)); // the new poll's own version 0 is delivered first
    const seen: number[] = [];
    const stop = core.events.subscribe((s) => seen.push(s.version));
    reads = 0;
    const r = await castVote(core, {
      pollId: id,
      questionId: 'q1',
      optionIds: ['o2'],
      voter: webVoter('601'),
    });
    await new Promise((resolve) => setImmediate(resolve)); // local delivery follows on the next turn
    stop();
    expect(r.ok && [r.value.snapshot.version, r.value.changed]).toEqual([1, true]);
    expect(r.ok && r.value.snapshot.questions[0]?.options.find((o) => o.option_id === 'o2')?.vote_count).toBe(
      1,
    );
    expect(seen).toEqual([1]);
    expect(reads).toBe(0);
  });

  it('keeps the cached definition of a poll with a close time: the tally says the same close time', async () => {
    const created = await createPoll(
      core,
      {
        template: 'choice',
        title: 't',
        options: ['a', 'b'],
        closes_at: new Date(Date.now() + 3_600_000 + 0.5).toISOString(),
      },
      { kind: 'admin' },
    );
    if (!created.ok) throw new Error(created.message);
    const { id, closes_at } = created.value.poll;
    definitionReads = 0;
    for (const emp of ['611', '612', '613']) {
      const r = await castVote(core, {
        pollId: id,
        questionId: 'q1',
        optionIds: ['o1'],
        voter: webVoter(emp),
      });
      expect(r.ok && r.value.snapshot.closes_at).toBe(closes_at);
    }
    expect(definitionReads).toBe(0);
  });
});

describe('castVote on a process whose copy of the poll is stale', () => {
  let embedded: EmbeddedCore;
  beforeAll(async () => {
    embedded = await embeddedCore();
  });
  afterAll(() => embedded.close());

  it('takes the vote of a poll another process extended for its quorum, past the close time it had cached', async () => {
    const { core, store } = embedded;
    // Another process on the same database that does not watch this poll: it never hears the extension.
    const other = createCore(store, new MemoryBus());
    try {
      const created = await createPoll(
        core,
        {
          template: 'lunch',
          places: [
            { name: 'Pho', menus: [] },
            { name: 'Bibimbap', menus: [] },
          ],
          closes_at: new Date(Date.now() + 1_000).toISOString(),
          settings: { quorum: 5 },
        },
        { kind: 'admin' },
      );
      if (!created.ok) throw new Error(created.message);
      const { id } = created.value.poll;
      const vote = (c: Core, emp: string) =>
        castVote(c, { pollId: id, questionId: 'place', optionIds: ['p1'], voter: webVoter(emp) });
      expect((await vote(other, '701')).ok).toBe(true); // caches the definition, close time included
      await new Promise((r) => setTimeout(r, 1_100));
      const settled = await settlePoll({ ...core, lunch: store }, id, { trigger: 'due', actor: 'schedule' });
      expect(settled).toMatchObject({ ok: true, value: { extended: true, closed: false } });
      // The snapshot carries the moved close time, and a read on the other process brings its copy up to date.
      const moved = settled.ok ? settled.value.snapshot?.closes_at : undefined;
      expect(Date.parse(moved ?? '') - Date.now()).toBeGreaterThan(8 * 60_000);
      expect((await other.snapshots.poll(id))?.closes_at).not.toBe(moved); // still the old copy here
      expect((await other.snapshots.fresh(id))?.closes_at).toBe(moved);
      expect((await other.snapshots.poll(id))?.closes_at).toBe(moved);
      expect(await vote(other, '702')).toMatchObject({ ok: true });
      expect((await store.readTally(id))?.counts.p1).toBe(2);
    } finally {
      other.events.stop();
    }
  });

  it('finds an option another process added since this one cached the poll (a chat click on it)', async () => {
    const { core, store } = embedded;
    const other = createCore(store, new MemoryBus());
    try {
      const created = await createPoll(
        core,
        { template: 'choice', title: 't', options: ['a', 'b'], settings: { allow_add_options: true } },
        { kind: 'admin' },
      );
      if (!created.ok) throw new Error(created.message);
      const { id } = created.value.poll;
      expect((await other.snapshots.withOption(id, 'o1'))?.question.id).toBe('q1'); // cached here
      const added = await addOption(core, id, 'q1', 'Tacos', 'emp:1');
      if (!added.ok) throw new Error(added.message);
      const found = await other.snapshots.withOption(id, added.value.optionId);
      expect(found?.question.options.map((o) => o.label)).toEqual(['a', 'b', 'Tacos']);
      expect(await other.snapshots.withOption(id, 'o404')).toBeNull();
    } finally {
      other.events.stop();
    }
  });
});
