// The Store contract: one suite, run against every adapter (pg-store.test.ts, pglite-store.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PollKeys } from '../src/adapters/sql/anonymity.ts';
import type { SqlStoreOptions } from '../src/adapters/sql/sql-store.ts';
import { buildPoll } from '../src/domain/poll-definition.ts';
import { questionCountKey } from '../src/domain/tally.ts';
import { type Voter, webVoter } from '../src/domain/voter.ts';
import type { CastOutcome, Store } from '../src/ports/store.ts';
import type { CreatePollBody } from '../src/protocol/index.ts';
import { TEST_ANONYMITY_KEY } from '../testing/index.ts';

export interface StoreFixture {
  store: Store;
  /** A second store on the same database through other connections (another instance), where the adapter has one. */
  close(): Promise<void>;
  /** Another store on the same database with other options (a different idempotency TTL). */
  withOptions(options: SqlStoreOptions): Store;
  /** Raw SQL on the same database, for what the port cannot do: age a row, look at a column it doesn't return. */
  sql<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
}

/** An outcome without the tally read after it (outcomes from different polls or moments compare equal). */
const bare = (o: CastOutcome): CastOutcome => {
  if (!o.ok) return o;
  const { tally: _, ...rest } = o;
  return rest;
};

let seq = 0;
const pollId = () => `c${Date.now().toString(36)}${(seq++).toString(36)}`;

const choice = (extra: Partial<Extract<CreatePollBody, { template: 'choice' }>> = {}): CreatePollBody => ({
  template: 'choice',
  title: 'Where to?',
  options: ['Pizza', 'Sushi', 'Bibimbap'],
  ...extra,
});

export function storeContract(
  name: string,
  open: () => Promise<StoreFixture>,
  opts: { concurrency: number },
) {
  describe(`Store contract: ${name}`, () => {
    let fx: StoreFixture;
    let store: Store;
    beforeAll(async () => {
      fx = await open();
      store = fx.store;
    });
    afterAll(async () => fx?.close());

    async function newPoll(body: CreatePollBody = choice()) {
      const poll = buildPoll(body, pollId(), new Date());
      await store.createPoll(poll, 'admin');
      return poll;
    }

    it('stores a poll and reads it back with questions, options and settings', async () => {
      const poll = await newPoll({
        template: 'lunch',
        places: [
          { name: '김밥천국', label_en: 'Kimbap Heaven', menus: [{ name: '라볶이' }, { name: '김밥' }] },
          { name: '본죽', menus: [{ name: '전복죽' }] },
        ],
        settings: { anonymous: true },
      });
      const read = await store.getPoll(poll.id);
      expect(read?.questions.map((q) => q.id)).toEqual(['place', 'menu']);
      expect(read?.questions[0]?.options[0]).toEqual({
        id: 'p1',
        label: '김밥천국',
        label_en: 'Kimbap Heaven',
      });
      expect(read?.questions[1]?.options.map((o) => o.place_id)).toEqual(['p1', 'p1', 'p2']);
      expect(read?.settings.anonymous).toBe(true);
      expect(await store.pollCreator(poll.id)).toBe('admin');
      expect(await store.pollCreator('nope')).toBeNull();
      expect((await store.listPolls()).some((p) => p.id === poll.id)).toBe(true);
      expect(await store.getPoll('nope')).toBeNull();
    });

    it('keeps workspaces apart: listing by workspace, template and open state', async () => {
      const ws = `slack:T${pollId()
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, '')}`;
      const lunch = await newPoll({
        template: 'lunch',
        workspace: ws,
        places: [
          { name: 'A', menus: [] },
          { name: 'B', menus: [] },
        ],
      });
      const choicePoll = await newPoll(choice({ workspace: ws }));
      const closed = await newPoll({
        template: 'lunch',
        workspace: ws,
        places: [
          { name: 'C', menus: [] },
          { name: 'D', menus: [] },
        ],
      });
      await store.closePoll(closed.id, 'admin');
      const web = await newPoll();
      expect((await store.getPoll(lunch.id))?.workspace).toBe(ws);
      expect(web.workspace).toBe('web');
      const mine = await store.listPolls({ workspace: ws });
      expect(mine.map((p) => p.id).sort()).toEqual([lunch.id, choicePoll.id, closed.id].sort());
      expect(mine.every((p) => p.workspace === ws)).toBe(true);
      expect((await store.listPolls({ workspace: 'web' })).some((p) => p.id === lunch.id)).toBe(false);
      const open = await store.listPolls({ workspace: ws, template: 'lunch', openOnly: true });
      expect(open.map((p) => p.id)).toEqual([lunch.id]);
    });

    it("imports directory rows into one workspace, lists only its own, and never rewrites another's", async () => {
      const a = `slack:A${pollId()
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, '')}`;
      const b = `slack:B${pollId()
        .toUpperCase()
        .replace(/[^A-Z0-9]/g, '')}`;
      const user = `U${pollId()}`;
      expect(
        await store.importDirectory(a, [{ platform: 'slack', tenant: 'TA', user, emp_no: '1' }]),
      ).toEqual({
        imported: 1,
        skipped: 0,
        held_elsewhere: [],
      });
      // Skipped, and named with the workspace that holds it (where the admin can change it).
      expect(
        await store.importDirectory(b, [
          { platform: 'slack', tenant: 'TA', user, emp_no: '2' },
          { platform: 'slack', tenant: 'TB', user, emp_no: '3' },
        ]),
      ).toEqual({
        imported: 1,
        skipped: 1,
        held_elsewhere: [{ platform: 'slack', tenant: 'TA', user, workspace: a }],
      });
      expect(await store.directory(a)).toEqual([{ platform: 'slack', tenant: 'TA', user, emp_no: '1' }]);
      expect(await store.directory(b)).toEqual([{ platform: 'slack', tenant: 'TB', user, emp_no: '3' }]);
      // a re-import into the owning workspace does update
      await store.importDirectory(a, [{ platform: 'slack', tenant: 'TA', user, emp_no: '4' }]);
      expect((await store.directory(a))[0]?.emp_no).toBe('4');
    });

    it('counts a vote, raises the version, and treats a re-cast of the same choice as no change', async () => {
      const poll = await newPoll();
      const before = await store.readTally(poll.id);
      const r = await store.cast({
        pollId: poll.id,
        questionId: 'q1',
        voter: webVoter('1001'),
        optionIds: ['o2'],
      });
      expect(r).toMatchObject({ ok: true, changed: true });
      const after = await store.readTally(poll.id);
      expect(after?.counts.o2).toBe(1);
      expect(after?.totalVoters).toBe(1);
      expect(after?.version).toBeGreaterThan(before?.version ?? 0);
      const again = await store.cast({
        pollId: poll.id,
        questionId: 'q1',
        voter: webVoter('1001'),
        optionIds: ['o2'],
      });
      expect(again).toMatchObject({ ok: true, changed: false });
      expect((await store.readTally(poll.id))?.version).toBe(after?.version);
    });

    it('changes and retracts a ballot, keeping counts and voter totals exact', async () => {
      const poll = await newPoll(choice({ max_choices: 2 }));
      const v = webVoter('2002');
      await store.cast({ pollId: poll.id, questionId: 'q1', voter: v, optionIds: ['o1', 'o2'] });
      await store.cast({ pollId: poll.id, questionId: 'q1', voter: v, optionIds: ['o2', 'o3'] });
      let t = await store.readTally(poll.id);
      expect([t?.counts.o1 ?? 0, t?.counts.o2, t?.counts.o3]).toEqual([0, 1, 1]);
      expect(t?.counts[questionCountKey('q1')]).toBe(1);
      await store.cast({ pollId: poll.id, questionId: 'q1', voter: v, optionIds: [] });
      t = await store.readTally(poll.id);
      expect([t?.counts.o2, t?.counts.o3, t?.totalVoters, t?.counts[questionCountKey('q1')]]).toEqual([
        0, 0, 0, 0,
      ]);
    });

    it('counts a voter once across the two questions of a lunch poll', async () => {
      const poll = await newPoll({
        template: 'lunch',
        places: [
          { name: 'A', menus: [{ name: 'a1' }] },
          { name: 'B', menus: [{ name: 'b1' }] },
        ],
      });
      const v = webVoter('3003');
      await store.cast({ pollId: poll.id, questionId: 'place', voter: v, optionIds: ['p1'] });
      await store.cast({ pollId: poll.id, questionId: 'menu', voter: v, optionIds: ['m1'] });
      expect((await store.readTally(poll.id))?.totalVoters).toBe(1);
      await store.cast({ pollId: poll.id, questionId: 'place', voter: v, optionIds: [] });
      expect((await store.readTally(poll.id))?.totalVoters).toBe(1);
      await store.cast({ pollId: poll.id, questionId: 'menu', voter: v, optionIds: [] });
      expect((await store.readTally(poll.id))?.totalVoters).toBe(0);
    });

    it('refuses bad ballots with a reason and changes nothing', async () => {
      const poll = await newPoll();
      const v = webVoter('4004');
      const base = { pollId: poll.id, questionId: 'q1', voter: v };
      const before = await store.readTally(poll.id);
      expect(await store.cast({ ...base, pollId: 'missing', optionIds: ['o1'] })).toEqual({
        ok: false,
        reason: 'unknown_poll',
      });
      expect(await store.cast({ ...base, questionId: 'q9', optionIds: ['o1'] })).toEqual({
        ok: false,
        reason: 'unknown_question',
      });
      expect(await store.cast({ ...base, optionIds: ['o9'] })).toEqual({
        ok: false,
        reason: 'unknown_option',
      });
      expect(await store.cast({ ...base, optionIds: ['o1', 'o2'] })).toEqual({
        ok: false,
        reason: 'too_many_choices',
      });
      expect(await store.cast({ ...base, optionIds: ['o1', 'o1'] })).toEqual({
        ok: false,
        reason: 'duplicate_option',
      });
      expect(await store.readTally(poll.id)).toEqual(before);
    });

    it('returns the first outcome for a repeated idempotency key and refuses the key for another vote', async () => {
      const poll = await newPoll();
      const cmd = {
        pollId: poll.id,
        questionId: 'q1',
        voter: webVoter('5005'),
        optionIds: ['o1'],
        idempotencyKey: 'k-1',
      };
      expect(await store.cast(cmd)).toMatchObject({ ok: true, changed: true, replayed: false });
      const v1 = (await store.readTally(poll.id))?.version;
      expect(await store.cast(cmd)).toMatchObject({
        ok: true,
        changed: true,
        replayed: true,
        optionIds: ['o1'],
      });
      expect(await store.cast({ ...cmd, optionIds: ['o2'] })).toEqual({
        ok: false,
        reason: 'idempotency_key_reused',
      });
      const t = await store.readTally(poll.id);
      expect([t?.version, t?.counts.o1, t?.counts.o2 ?? 0]).toEqual([v1, 1, 0]);
    });

    describe('idempotency keys expire', () => {
      const HOUR = 3_600_000;
      /** Moves a voter's keys back in time, as if they had been stored that long ago. */
      const age = (voterKey: string, key: string, ms: number) =>
        fx.sql(
          `update idempotency set created_at = created_at - $3 * interval '1 millisecond'
           where voter_key = $1 and key = $2`,
          [voterKey, key, ms],
        );

      it('replays a key within the TTL and counts it as new after, purged or not', async () => {
        const poll = await newPoll();
        const cmd = {
          pollId: poll.id,
          questionId: 'q1',
          voter: webVoter('5101'),
          optionIds: ['o1'],
          idempotencyKey: 'ttl-1',
        };
        expect(await store.cast(cmd)).toMatchObject({ ok: true, changed: true, replayed: false });
        await age('emp:5101', 'ttl-1', 23 * HOUR);
        expect(await store.cast({ ...cmd, optionIds: ['o2'] })).toEqual({
          ok: false,
          reason: 'idempotency_key_reused',
        });
        expect(await store.cast(cmd)).toMatchObject({ ok: true, replayed: true });

        await age('emp:5101', 'ttl-1', 2 * HOUR); // 25 hours old now, and no purge has run
        expect(bare(await store.cast({ ...cmd, optionIds: ['o2'] }))).toEqual({
          ok: true,
          changed: true,
          replayed: false,
          optionIds: ['o2'],
        });
        // The key now stands for the new cast.
        expect(await store.cast({ ...cmd, optionIds: ['o2'] })).toMatchObject({ ok: true, replayed: true });
        const t = await store.readTally(poll.id);
        expect([t?.counts.o1 ?? 0, t?.counts.o2]).toEqual([0, 1]);
      });

      it("takes the TTL from the store's options, for a cast alone and in a batch", async () => {
        const poll = await newPoll();
        const cmd = (emp: string) => ({
          pollId: poll.id,
          questionId: 'q1',
          voter: webVoter(emp),
          optionIds: ['o3'],
          idempotencyKey: `ttl-${emp}`,
        });
        // Casts fired in one turn go together as one batch (lv_cast_set), a lone one through lv_cast.
        const hourly = fx.withOptions({
          idempotencyTtlMs: HOUR,
          castSlots: 1,
          anonymityKey: TEST_ANONYMITY_KEY,
        });
        const emps = ['5102', '5103', '5104'];
        for (const emp of emps) expect(await hourly.cast(cmd(emp))).toMatchObject({ replayed: false });
        expect(await hourly.cast(cmd('5102'))).toMatchObject({ ok: true, replayed: true });
        for (const emp of emps) await age(`emp:${emp}`, `ttl-${emp}`, 2 * HOUR);
        expect(await store.cast(cmd('5102'))).toMatchObject({ ok: true, replayed: true }); // 24 h by default
        const again = await Promise.all(emps.map((emp) => hourly.cast(cmd(emp))));
        expect(again.map(bare)).toEqual(
          emps.map(() => ({ ok: true, changed: false, replayed: false, optionIds: ['o3'] })),
        );
      });

      it('purges only keys older than asked, and what it purged no longer replays', async () => {
        const poll = await newPoll();
        const cast = (key: string) =>
          store.cast({
            pollId: poll.id,
            questionId: 'q1',
            voter: webVoter('5105'),
            optionIds: ['o1'],
            idempotencyKey: key,
          });
        await cast('old');
        await cast('fresh');
        await age('emp:5105', 'old', 25 * HOUR);
        expect(await store.purgeIdempotency(24 * HOUR)).toBe(1);
        expect(await store.purgeIdempotency(24 * HOUR)).toBe(0);
        const keys = await fx.sql<{ key: string }>(
          'select key from idempotency where voter_key = $1 order by key',
          ['emp:5105'],
        );
        expect(keys.map((k) => k.key)).toEqual(['fresh']);
        expect(await cast('fresh')).toMatchObject({ replayed: true });
        expect(await cast('old')).toMatchObject({ replayed: false });
      });
    });

    it('closes a poll: later votes are refused, the version moves, closing twice is a no-op', async () => {
      const poll = await newPoll();
      await store.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter('6006'), optionIds: ['o1'] });
      const open = await store.readTally(poll.id);
      expect(await store.closePoll(poll.id)).toEqual({ ok: true, changed: true });
      const closed = await store.readTally(poll.id);
      expect(closed?.status).toBe('closed');
      expect(closed?.version).toBeGreaterThan(open?.version ?? 0);
      expect(
        await store.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter('6007'), optionIds: ['o2'] }),
      ).toEqual({
        ok: false,
        reason: 'poll_closed',
      });
      expect(await store.closePoll(poll.id)).toEqual({ ok: true, changed: false });
      expect((await store.readTally(poll.id))?.version).toBe(closed?.version);
      expect(await store.closePoll('missing')).toEqual({ ok: false, reason: 'unknown_poll' });
    });

    it('treats a poll past its close time as closed and closes it for good in closeDuePolls', async () => {
      const poll = buildPoll(choice(), pollId(), new Date());
      poll.closes_at = new Date(Date.now() - 1000).toISOString();
      await store.createPoll(poll, null);
      expect((await store.getPoll(poll.id))?.status).toBe('closed');
      expect(
        await store.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter('7007'), optionIds: ['o1'] }),
      ).toEqual({
        ok: false,
        reason: 'poll_closed',
      });
      const v0 = (await store.readTally(poll.id))?.version ?? 0;
      expect(await store.closeDuePolls()).toContain(poll.id);
      expect((await store.readTally(poll.id))?.version).toBeGreaterThan(v0);
    });

    it('lets voters add options only where allowed, and never the same name twice', async () => {
      const closedToIdeas = await newPoll();
      expect(await store.addOption(closedToIdeas.id, 'q1', 'Tacos', 'web:1')).toEqual({
        ok: false,
        reason: 'adding_options_disabled',
      });
      const poll = await newPoll(choice({ settings: { allow_add_options: true } }));
      const added = await store.addOption(poll.id, 'q1', 'Tacos', 'web:1');
      expect(added.ok).toBe(true);
      expect(await store.addOption(poll.id, 'q1', '  tacos ', 'web:2')).toEqual({
        ok: false,
        reason: 'option_exists',
      });
      const read = await store.getPoll(poll.id);
      expect(read?.questions[0]?.options.map((o) => o.label)).toEqual([
        'Pizza',
        'Sushi',
        'Bibimbap',
        'Tacos',
      ]);
      const id = added.ok ? added.optionId : '';
      expect(
        await store.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter('8008'), optionIds: [id] }),
      ).toMatchObject({ ok: true });
      expect((await store.readTally(poll.id))?.counts[id]).toBe(1);
    });

    it('maps platform identities to one employee through the directory: one person, one vote', async () => {
      const poll = await newPoll();
      await store.importDirectory('web', [
        { platform: 'slack', tenant: 'T1', user: 'U1', emp_no: '9009' },
        { platform: 'teams', tenant: 'tid', user: 'aad-1', emp_no: '9009' },
      ]);
      await store.cast({
        pollId: poll.id,
        questionId: 'q1',
        voter: { platform: 'slack', tenant: 'T1', user: 'U1' },
        optionIds: ['o1'],
      });
      await store.cast({
        pollId: poll.id,
        questionId: 'q1',
        voter: { platform: 'teams', tenant: 'tid', user: 'aad-1' },
        optionIds: ['o2'],
      });
      await store.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter('9009'), optionIds: ['o3'] });
      const t = await store.readTally(poll.id);
      expect([t?.counts.o1, t?.counts.o2, t?.counts.o3, t?.totalVoters]).toEqual([0, 0, 1, 1]);
      const rows = await store.exportBallots(poll.id);
      expect(rows).toEqual([
        expect.objectContaining({ option_id: 'o3', voter: 'emp:9009', platform: 'web' }),
      ]);
    });

    describe('anonymous polls', () => {
      const keys = new PollKeys(TEST_ANONYMITY_KEY);
      const rowsOf = (pollIds: string[]) =>
        fx.sql<{ poll_id: string; voter_key: string; key?: string }>(
          `select poll_id, voter_key, null as key from ballots where poll_id = any ($1)
           union all select poll_id, voter_key, key from idempotency where poll_id = any ($1)`,
          [pollIds],
        );

      it('store a keyed hash of the person (after the directory), stable in a poll, different in every other', async () => {
        const a = await newPoll(choice({ settings: { anonymous: true } }));
        const b = await newPoll(choice({ settings: { anonymous: true } }));
        const user = `UANON${pollId().toUpperCase()}`;
        const slack: Voter = { platform: 'slack', tenant: 'TANON', user };
        await store.importDirectory('slack:TANON', [
          { platform: 'slack', tenant: 'TANON', user, emp_no: '880001' },
        ]);
        const slackKey = `slack:1700000001.000100:1700000002.1:${user}`;
        const cast = (id: string, voter: Voter, optionIds: string[], idempotencyKey?: string) =>
          store.cast({ pollId: id, questionId: 'q1', voter, optionIds, idempotencyKey });

        // Employee 880001 votes on the web, then from the Slack account the directory maps to them: one ballot.
        await cast(a.id, webVoter('880001'), ['o1'], 'web-880001');
        expect(await cast(a.id, slack, ['o2'], slackKey)).toMatchObject({ ok: true, changed: true });
        expect(await cast(a.id, slack, ['o2'], slackKey)).toMatchObject({ ok: true, replayed: true });
        // The read-only replay finds the hashed key too, and tells a different ballot under it apart.
        const again = { pollId: a.id, questionId: 'q1', voter: slack, idempotencyKey: slackKey };
        expect(await store.replayOf({ ...again, optionIds: ['o2'] })).toMatchObject({
          ok: true,
          replayed: true,
        });
        expect(await store.replayOf({ ...again, optionIds: ['o3'] })).toEqual({
          ok: false,
          reason: 'idempotency_key_reused',
        });
        expect(
          await store.replayOf({ ...again, optionIds: ['o2'], idempotencyKey: 'never-used' }),
        ).toBeNull();
        await cast(b.id, webVoter('880001'), ['o3']);
        expect((await store.readTally(a.id))?.totalVoters).toBe(1);
        expect(await store.ballotsOf(a.id, webVoter('880001'))).toEqual({ q1: ['o2'] });
        expect(await store.ballotsOf(a.id, slack)).toEqual({ q1: ['o2'] });
        expect(await store.exportBallots(a.id)).toEqual([expect.objectContaining({ option_id: 'o2' })]);

        const person = (id: string) => keys.hash(id, 'voter', 'emp:880001');
        expect(person(a.id)).not.toBe(person(b.id));
        expect(await rowsOf([a.id, b.id])).toEqual(
          expect.arrayContaining([
            { poll_id: a.id, voter_key: person(a.id), key: null },
            { poll_id: b.id, voter_key: person(b.id), key: null },
            { poll_id: a.id, voter_key: person(a.id), key: keys.hash(a.id, 'key', 'web-880001') },
            { poll_id: a.id, voter_key: person(a.id), key: keys.hash(a.id, 'key', slackKey) },
          ]),
        );
        const stored = JSON.stringify([
          await rowsOf([a.id, b.id]),
          await fx.sql('select doc from outbox where poll_id = any ($1)', [[a.id, b.id]]),
        ]);
        expect(stored).not.toMatch(/880001|UANON|web-880001/);

        // Another secret finds nothing: the hash is keyed, not just a digest of the person.
        const other = fx.withOptions({ anonymityKey: 'another-anonymity-key-of-32-characters' });
        expect(await other.ballotsOf(a.id, webVoter('880001'))).toEqual({});

        expect(await cast(a.id, webVoter('880001'), [])).toMatchObject({ ok: true, changed: true });
        expect((await store.readTally(a.id))?.totalVoters).toBe(0);
        expect(await store.ballotsOf(a.id, slack)).toEqual({});
      });

      it('hash in the batched path too', async () => {
        const poll = await newPoll(choice({ settings: { anonymous: true } }));
        // Casts fired in one turn go together as one batch (lv_cast_set).
        const batched = fx.withOptions({ castSlots: 1, anonymityKey: TEST_ANONYMITY_KEY });
        const emps = Array.from({ length: 20 }, (_, i) => String(881000 + i));
        const results = await Promise.all(
          emps.map((emp) =>
            batched.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter(emp), optionIds: ['o1'] }),
          ),
        );
        expect(results.every((r) => r.ok && r.changed)).toBe(true);
        const stored = (await rowsOf([poll.id])).map((r) => r.voter_key).sort();
        expect(stored).toEqual(emps.map((emp) => keys.hash(poll.id, 'voter', `emp:${emp}`)).sort());
      });

      it('refuse to hash without the poll key rather than store the person', async () => {
        await expect(fx.sql(`select lv_anon('some-poll', 'voter', 'emp:1')`)).rejects.toThrow(
          /no anonymity key/,
        );
      });
    });

    it("returns a voter's own ballots, and only theirs", async () => {
      const poll = await newPoll(choice({ max_choices: 2 }));
      await store.cast({
        pollId: poll.id,
        questionId: 'q1',
        voter: webVoter('2121'),
        optionIds: ['o1', 'o3'],
      });
      await store.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter('2122'), optionIds: ['o2'] });
      expect(await store.ballotsOf(poll.id, webVoter('2121'))).toEqual({ q1: ['o1', 'o3'] });
      expect(await store.ballotsOf(poll.id, webVoter('2123'))).toEqual({});
    });

    it('exports ballots without voter identity for anonymous polls', async () => {
      const poll = await newPoll(choice({ settings: { anonymous: true } }));
      await store.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter('1111'), optionIds: ['o1'] });
      const rows = await store.exportBallots(poll.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]).not.toHaveProperty('voter');
      expect(JSON.stringify(rows)).not.toContain('1111');
    });

    it(`keeps an exact tally under ${opts.concurrency} concurrent distinct voters, with every change in the version`, async () => {
      const poll = await newPoll();
      const v0 = (await store.readTally(poll.id))?.version ?? 0;
      const results = await Promise.all(
        Array.from({ length: opts.concurrency }, (_, i) =>
          store.cast({
            pollId: poll.id,
            questionId: 'q1',
            voter: webVoter(String(100000 + i)),
            optionIds: [`o${(i % 3) + 1}`],
            idempotencyKey: `burst-${i}`,
          }),
        ),
      );
      expect(results.every((r) => r.ok && r.changed)).toBe(true);
      const t = await store.readTally(poll.id);
      const expected = [0, 1, 2].map(
        (k) => Array.from({ length: opts.concurrency }, (_, i) => i % 3).filter((x) => x === k).length,
      );
      expect([t?.counts.o1, t?.counts.o2, t?.counts.o3]).toEqual(expected);
      expect(t?.totalVoters).toBe(opts.concurrency);
      expect(t?.version).toBe(v0 + opts.concurrency);
    });

    it('counts a burst of the same idempotency key once', async () => {
      const poll = await newPoll();
      const cmd = {
        pollId: poll.id,
        questionId: 'q1',
        voter: webVoter('1212'),
        optionIds: ['o3'],
        idempotencyKey: 'dup',
      };
      const results = await Promise.all(Array.from({ length: 20 }, () => store.cast(cmd)));
      expect(results.filter((r) => r.ok && !r.replayed)).toHaveLength(1);
      expect(results.every((r) => r.ok)).toBe(true);
      const t = await store.readTally(poll.id);
      expect([t?.counts.o3, t?.totalVoters]).toEqual([1, 1]);
    });

    it('stays consistent when the same voters change their minds concurrently across both questions', async () => {
      const poll = await newPoll({
        template: 'lunch',
        places: ['A', 'B', 'C'].map((name) => ({
          name,
          menus: [{ name: `${name}1` }, { name: `${name}2` }],
        })),
      });
      const v0 = (await store.readTally(poll.id))?.version ?? 0;
      let seed = 7;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      const casts = Array.from({ length: 300 }, () => {
        const voter = webVoter(String(700 + rand(15)));
        const place = rand(4); // 3 = retract
        return rand(2) === 0
          ? { pollId: poll.id, questionId: 'place', voter, optionIds: place === 3 ? [] : [`p${place + 1}`] }
          : { pollId: poll.id, questionId: 'menu', voter, optionIds: place === 3 ? [] : [`m${rand(6) + 1}`] };
      });
      const results = await Promise.all(casts.map((c) => store.cast(c)));
      expect(results.every((r) => r.ok)).toBe(true);
      const changes = results.filter((r) => r.ok && r.changed).length;
      const t = await store.readTally(poll.id);
      const ballots = await store.exportBallots(poll.id);
      const count = (id: string) => ballots.filter((b) => b.option_id === id).length;
      for (const id of ['p1', 'p2', 'p3', 'm1', 'm2', 'm3', 'm4', 'm5', 'm6'])
        expect(t?.counts[id] ?? 0).toBe(count(id));
      expect(t?.counts[questionCountKey('place')] ?? 0).toBe(
        ballots.filter((b) => b.question_id === 'place').length,
      );
      expect(t?.totalVoters).toBe(new Set(ballots.map((b) => b.voter)).size);
      expect(t?.version).toBe(v0 + changes);
    });

    it('toggles one option of a multi-choice ballot atomically: concurrent toggles from two stores all count', async () => {
      for (const anonymous of [false, true]) {
        const poll = await newPoll(
          choice({ options: ['a', 'b', 'c', 'd', 'e'], max_choices: 3, settings: { anonymous } }),
        );
        const other = fx.withOptions({ castSlots: 2, anonymityKey: TEST_ANONYMITY_KEY });
        const voter: Voter = { platform: 'slack', tenant: 'T1', user: `UTOGGLE${anonymous}` };
        const toggle = (s: Store, option: string, key?: string) =>
          s.cast({
            pollId: poll.id,
            questionId: 'q1',
            voter,
            optionIds: [option],
            toggle: true,
            ...(key ? { idempotencyKey: key } : {}),
          });
        // Three clicks at once, over two "processes": each adds its option to what the others left.
        const outs = await Promise.all([
          toggle(store, 'o1', 'k1'),
          toggle(other, 'o2', 'k2'),
          toggle(store, 'o3', 'k3'),
        ]);
        expect(outs.every((o) => o.ok && o.changed)).toBe(true);
        expect((await store.ballotsOf(poll.id, voter)).q1?.sort()).toEqual(['o1', 'o2', 'o3']);
        // A fourth is one too many, and changes nothing; a second click on o2 takes it off.
        expect(await toggle(other, 'o4', 'k4')).toEqual({ ok: false, reason: 'too_many_choices' });
        const off = await toggle(store, 'o2', 'k5');
        expect(off.ok && off.optionIds).toEqual(['o1', 'o3']);
        // A redelivered click answers its first outcome and toggles nothing; its key for another option is refused.
        const replay = await toggle(other, 'o2', 'k5');
        expect(replay.ok && [replay.replayed, replay.optionIds]).toEqual([true, ['o1', 'o3']]);
        expect(
          await store.replayOf({
            pollId: poll.id,
            questionId: 'q1',
            voter,
            optionIds: ['o2'],
            toggle: true,
            idempotencyKey: 'k5',
          }),
        ).toMatchObject({ ok: true, replayed: true });
        expect(await toggle(store, 'o5', 'k5')).toEqual({ ok: false, reason: 'idempotency_key_reused' });
        const t = await store.readTally(poll.id);
        expect([t?.counts.o1, t?.counts.o2, t?.counts.o3, t?.counts.o4 ?? 0, t?.totalVoters]).toEqual([
          1, 0, 1, 0, 1,
        ]);
        expect(t?.version).toBe(4); // three adds and one take-off
      }
    });

    it('answers each accepted cast with its poll tally read after the commit, in the same call', async () => {
      const poll = await newPoll();
      const cast = (s: Store, emp: string, optionIds: string[]) =>
        s.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter(emp), optionIds });
      const alone = await cast(store, '3131', ['o2']);
      expect(alone.ok && alone.tally).toEqual(await store.readTally(poll.id));
      expect(alone.ok && [alone.tally?.version, alone.tally?.counts.o2, alone.tally?.totalVoters]).toEqual([
        1, 1, 1,
      ]);
      // One batch: every accepted cast's tally holds the whole batch; a refusal carries none.
      const batched = fx.withOptions({ castSlots: 1, anonymityKey: TEST_ANONYMITY_KEY });
      const outs = await Promise.all([
        cast(batched, '3132', ['o1']),
        cast(batched, '3133', ['o1']),
        cast(batched, '3131', ['o2']), // no change: answered with the tally all the same
        cast(batched, '3134', ['o9']),
      ]);
      const after = await store.readTally(poll.id);
      expect(after?.counts.o1).toBe(2);
      for (const o of outs.slice(0, 3)) expect(o.ok && o.tally).toEqual(after);
      // One read for the batch, shared (so the snapshot built from it is built once).
      expect(outs[0]?.ok && outs[0].tally).toBe(outs[1]?.ok && outs[1].tally);
      expect(outs[3]).toEqual({ ok: false, reason: 'unknown_option' });
    });

    it('answers and counts a batch of casts exactly as the same casts one at a time', async () => {
      const lunch: CreatePollBody = {
        template: 'lunch',
        places: ['A', 'B', 'C'].map((name) => ({
          name,
          menus: [{ name: `${name}1` }, { name: `${name}2` }],
        })),
      };
      // Two twin polls in one batch (casts alternate between them), a third cast one at a time.
      const [a, b, alone] = [await newPoll(lunch), await newPoll(lunch), await newPoll(lunch)];
      let seed = 11;
      const rand = (n: number) => {
        seed = (seed * 1103515245 + 12345) % 2147483648;
        return seed % n;
      };
      // Few voters and keys, so one batch holds the same voter many times (in both questions), changes, retracts,
      // replays of a key (the same cast again), a key reused for another cast, and refused ballots.
      const script = Array.from({ length: 120 }, () => {
        const emp = String(9100 + rand(6));
        const kind = rand(10);
        const questionId = rand(2) === 0 ? 'place' : 'menu';
        const one = questionId === 'place' ? `p${rand(3) + 1}` : `m${rand(6) + 1}`;
        const optionIds =
          kind === 0 ? [] : kind === 1 ? ['x9'] : kind === 2 && questionId === 'menu' ? ['m1', 'm2'] : [one];
        const key = rand(3) === 0 ? `k${emp}-${rand(4)}` : undefined;
        return { emp, questionId, optionIds, key };
      });
      const cmd = (pollId: string, c: (typeof script)[number]) => ({
        pollId,
        questionId: c.questionId,
        voter: webVoter(c.emp),
        optionIds: c.optionIds,
        ...(c.key ? { idempotencyKey: `${pollId}:${c.key}` } : {}),
      });
      // Everything fired in one turn goes as one batch; one voter appears many times, so lv_cast_set hands the
      // batch to lv_cast_batch, which applies the casts one after another.
      const batched = fx.withOptions({ castSlots: 1, anonymityKey: TEST_ANONYMITY_KEY });
      const inBatch = await Promise.all(
        script.flatMap((c) => [batched.cast(cmd(a.id, c)), batched.cast(cmd(b.id, c))]),
      );
      const oneByOne = [];
      for (const c of script) oneByOne.push(await store.cast(cmd(alone.id, c)));
      expect(inBatch.filter((_, i) => i % 2 === 0).map(bare)).toEqual(oneByOne.map(bare));
      expect(inBatch.filter((_, i) => i % 2 === 1).map(bare)).toEqual(oneByOne.map(bare));
      expect(oneByOne.filter((r) => !r.ok).length).toBeGreaterThan(5); // the script does exercise refusals
      expect(oneByOne.filter((r) => r.ok && r.replayed).length).toBeGreaterThan(3); // and replays
      // A counter that went up and back down within the batch was never written: zero either way.
      const nonZero = (counts: Readonly<Record<string, number>> = {}) =>
        Object.fromEntries(Object.entries(counts).filter(([, n]) => n !== 0));
      const truth = await store.readTally(alone.id);
      for (const twin of [a, b]) {
        const t = await store.readTally(twin.id);
        expect(nonZero(t?.counts)).toEqual(nonZero(truth?.counts));
        expect(t?.totalVoters).toBe(truth?.totalVoters);
        expect(t?.version).toBe(truth?.version);
      }
    });

    it('answers, stores and audits a batch of distinct voters (one statement) exactly as the same casts one at a time', async () => {
      const lunch: CreatePollBody = {
        template: 'lunch',
        places: ['A', 'B', 'C'].map((name) => ({
          name,
          menus: [{ name: `${name}1` }, { name: `${name}2` }],
        })),
      };
      await store.importDirectory('web', [{ platform: 'slack', tenant: 'TS', user: 'US1', emp_no: '9420' }]);
      const slack: Voter = { platform: 'slack', tenant: 'TS', user: 'US1' };
      type Step = { voter: Voter; questionId: string; optionIds: string[]; key?: string };
      const v = (n: number) => webVoter(String(9400 + n));
      // What the voters did before: ballots in one or both questions, and keys, some of which will have expired.
      const before: Step[] = [
        { voter: v(1), questionId: 'place', optionIds: ['p1'], key: 'a1' },
        { voter: v(2), questionId: 'place', optionIds: ['p1'], key: 'a2' },
        { voter: v(3), questionId: 'place', optionIds: ['p1'] },
        { voter: v(4), questionId: 'place', optionIds: ['p2'] },
        { voter: v(4), questionId: 'menu', optionIds: ['m1'] },
        { voter: v(5), questionId: 'place', optionIds: ['p3'] },
        { voter: v(9), questionId: 'place', optionIds: ['p2'] },
        { voter: v(12), questionId: 'place', optionIds: ['p1'] },
        { voter: v(13), questionId: 'place', optionIds: ['p1'], key: 'a13' },
        { voter: v(14), questionId: 'menu', optionIds: ['m2'] },
        { voter: v(15), questionId: 'place', optionIds: ['p3'], key: 'a15' },
        { voter: slack, questionId: 'place', optionIds: ['p3'] },
      ];
      // One cast per person and poll, so the batch takes the set-based path: every kind of answer in one statement.
      const batch: Step[] = [
        { voter: v(1), questionId: 'place', optionIds: ['p1'], key: 'a1' }, // replay
        { voter: v(2), questionId: 'place', optionIds: ['p2'], key: 'a2' }, // key reused for another cast
        { voter: v(3), questionId: 'place', optionIds: ['p3'], key: 'b3' }, // change
        { voter: v(4), questionId: 'place', optionIds: [] }, // retract, still has a menu ballot
        { voter: v(5), questionId: 'place', optionIds: [], key: 'b5' }, // retract the only ballot
        { voter: v(6), questionId: 'place', optionIds: ['p2'], key: 'b6' }, // first ballot
        { voter: v(7), questionId: 'place', optionIds: ['x9'] }, // unknown option
        { voter: v(8), questionId: 'menu', optionIds: ['m1', 'm2'] }, // too many choices
        { voter: v(9), questionId: 'place', optionIds: ['p2'], key: 'b9' }, // same choice again: no change
        { voter: v(10), questionId: 'zz', optionIds: ['p1'] }, // unknown question
        { voter: v(11), questionId: 'place', optionIds: ['p1', 'p1'] }, // duplicate option
        { voter: v(12), questionId: 'menu', optionIds: ['m2'] }, // second question: no new voter
        { voter: v(14), questionId: 'place', optionIds: ['p3'] }, // the other second question
        { voter: v(13), questionId: 'place', optionIds: ['p2'], key: 'a13' }, // expired key: new again
        { voter: v(15), questionId: 'place', optionIds: ['x8'], key: 'a15' }, // expired key, refused: key deleted
        { voter: slack, questionId: 'place', optionIds: ['p1'] }, // through the directory: a change of 9420's
      ];
      const [a, b] = [await newPoll(lunch), await newPoll(lunch)];
      const cmd = (pollId: string, c: Step) => ({
        pollId,
        questionId: c.questionId,
        voter: c.voter,
        optionIds: c.optionIds,
        // A key is the voter's across polls: each poll gets its own.
        ...(c.key ? { idempotencyKey: `${pollId}:${c.key}` } : {}),
      });
      for (const pollId of [a.id, b.id]) for (const c of before) await store.cast(cmd(pollId, c));
      await fx.sql(
        `update idempotency set created_at = created_at - interval '2 days' where (key like '%:a13' or key like '%:a15') and poll_id = any ($1)`,
        [[a.id, b.id]],
      );
      const batched = fx.withOptions({ castSlots: 1, anonymityKey: TEST_ANONYMITY_KEY });
      const inBatch = await Promise.all([
        ...batch.map((c) => batched.cast(cmd(a.id, c))),
        batched.cast(cmd('no-such-poll', { voter: v(20), questionId: 'place', optionIds: ['p1'] })),
      ]);
      const oneByOne = [];
      for (const c of batch) oneByOne.push(await store.cast(cmd(b.id, c)));
      expect(inBatch.slice(0, -1).map(bare)).toEqual(oneByOne.map(bare));
      expect(inBatch.at(-1)).toEqual({ ok: false, reason: 'unknown_poll' });
      expect(oneByOne.map((r) => (r.ok ? (r.replayed ? 'replayed' : r.changed) : r.reason))).toEqual([
        'replayed',
        'idempotency_key_reused',
        true,
        true,
        true,
        true,
        'unknown_option',
        'too_many_choices',
        false,
        'unknown_question',
        'duplicate_option',
        true,
        true,
        true,
        'unknown_option',
        true,
      ]);
      const [ta, tb] = [await store.readTally(a.id), await store.readTally(b.id)];
      expect(ta).toEqual(tb);
      expect(ta?.version).toBe(before.length + 8); // one per accepted change
      expect(ta?.totalVoters).toBe(11); // 11 before; 9405 gone, 9406 new
      const rows = (pollId: string) =>
        fx.sql(
          `select voter_key, question_id, option_ids, platform from ballots where poll_id = $1
           union all select voter_key, key, array[fingerprint, outcome::text], (extract(epoch from now() - created_at) > 3600)::text
             from idempotency where poll_id = $1
           order by 1, 2`,
          [pollId],
        );
      const sameShape = (xs: Record<string, unknown>[], pollId: string) =>
        JSON.parse(JSON.stringify(xs).replaceAll(pollId, 'POLL'));
      expect(sameShape(await rows(a.id), a.id)).toEqual(sameShape(await rows(b.id), b.id));
      // The expired key of a refused cast is deleted (it is new again), on both paths.
      expect(await fx.sql(`select key from idempotency where key like '%:a15'`)).toEqual([]);
      const trail = async (pollId: string) =>
        sameShape(
          (await store.auditTrail(pollId)).map(({ at: _at, event_id: _id, ...e }) => e),
          pollId,
        );
      expect(await trail(a.id)).toEqual(await trail(b.id));
    });

    /** A vote in the poll, two other polls, then statistics of small tables (where scans look cheapest). */
    async function amongOthersOnFreshStatistics(pollId: string, emp: string) {
      await store.cast({ pollId, questionId: 'q1', voter: webVoter(emp), optionIds: ['o1'] });
      // Other polls (each with a row per shard): a scan of the gate rows would fetch theirs too.
      await newPoll();
      await newPoll();
      // Freshly analysed small tables are where a planner prefers hashing a whole table to probing its index; a
      // plan made then is kept by the session while the table grows, and every cast would scan it again.
      await fx.sql('analyze ballots, idempotency, polls, questions, options, directory, poll_shards, tally');
    }

    it('looks every row of a batch up by key, even where the statistics say the tables are tiny', async () => {
      const poll = await newPoll();
      const v = (n: number) => ({
        poll: poll.id,
        question: 'q1',
        platform: 'web',
        tenant: '',
        user: String(n),
        emp: String(n),
      });
      await amongOthersOnFreshStatistics(poll.id, '9501');
      // The session's scans not yet reported, before and after the batch (one transaction: nothing is reported
      // in between), name the tables the batch read whole.
      // The gate rows (poll_shards, one per poll and shard) must be fetched for this poll only, not for every poll.
      await fx.sql(`create or replace function lv_test_batch_scans(p_casts jsonb) returns text language plpgsql as $$
        declare
          v_before jsonb := (select jsonb_object_agg(relname, jsonb_build_array(seq_scan, idx_tup_fetch))
            from pg_stat_xact_user_tables);
        begin
          perform lv_cast_set(p_casts, 0, false);
          return (select coalesce(string_agg(relname || ' ' || (seq_scan - (v_before->relname->>0)::bigint), ', '
              order by relname), '')
            from pg_stat_xact_user_tables
            where seq_scan > (v_before->relname->>0)::bigint
              and relname in ('ballots', 'idempotency', 'polls', 'questions', 'options', 'directory', 'poll_shards'))
            || (select ' poll_shards rows fetched: ' || (idx_tup_fetch - (v_before->relname->>1)::bigint)
              from pg_stat_xact_user_tables where relname = 'poll_shards');
        end $$`);
      const casts = [
        { ...v(9501), options: [], key: 'scan-1' }, // a retract: deletes its ballot
        { ...v(9502), options: ['o2'], key: 'scan-2' },
        { ...v(9503), options: ['o9'], key: 'scan-3' }, // refused
      ];
      const [row] = await fx.sql<{ scans: string }>('select lv_test_batch_scans($1::jsonb) as scans', [
        JSON.stringify(casts),
      ]);
      expect(row?.scans).toBe(' poll_shards rows fetched: 2'); // its gate row, locked, then its counters updated
      expect((await store.readTally(poll.id))?.counts).toMatchObject({ o1: 0, o2: 1 });
    });

    it('looks up by key for one cast and for the tally read too, even where the statistics say the tables are tiny', async () => {
      const poll = await newPoll();
      await amongOthersOnFreshStatistics(poll.id, '9511');
      await fx.sql(`create or replace function lv_test_one_scans(p_poll text) returns text language plpgsql as $$
        declare
          v_before jsonb := (select jsonb_object_agg(relname, seq_scan) from pg_stat_xact_user_tables);
        begin
          perform set_config('livevote.poll_keys', '', true);
          -- A change (its old ballot found and replaced), a new vote with a key, a refusal, then the tally.
          perform lv_cast(p_poll, 'q1', 'web', '', '9511', '9511', array['o2'], 'one-1', 0, true);
          perform lv_cast(p_poll, 'q1', 'web', '', '9512', '9512', array['o1'], 'one-2', 0, true);
          perform lv_cast(p_poll, 'q1', 'web', '', '9513', '9513', array['o9'], 'one-3', 0, true);
          perform lv_tally(p_poll);
          return (select coalesce(string_agg(relname || ' ' || (seq_scan - (v_before->>relname)::bigint), ', '
              order by relname), '')
            from pg_stat_xact_user_tables
            where seq_scan > coalesce((v_before->>relname)::bigint, 0)
              and relname in ('ballots', 'idempotency', 'polls', 'questions', 'options', 'directory', 'poll_shards',
                'tally', 'outbox'));
        end $$`);
      const [row] = await fx.sql<{ scans: string }>('select lv_test_one_scans($1) as scans', [poll.id]);
      expect(row?.scans).toBe('');
      expect((await store.readTally(poll.id))?.counts).toMatchObject({ o1: 1, o2: 1 });
    });

    it('refuses in a batch the casts of a closed poll or a shut gate, and counts the others of the same batch', async () => {
      const [open, closed, closing] = [await newPoll(), await newPoll(), await newPoll()];
      await store.closePoll(closed.id);
      // The gate alone, as a close flips it first: what a batch meets when a close commits just before it.
      await fx.sql('update poll_shards set open = false where poll_id = $1', [closing.id]);
      const before = await store.readTally(closed.id);
      const beforeClosing = await store.readTally(closing.id);
      const batched = fx.withOptions({ castSlots: 1, anonymityKey: TEST_ANONYMITY_KEY });
      const cast = (pollId: string, emp: string) =>
        batched.cast({ pollId, questionId: 'q1', voter: webVoter(emp), optionIds: ['o1'] });
      // All five go as one batch.
      const results = await Promise.all([
        cast(open.id, '9301'),
        cast(closed.id, '9302'),
        cast(open.id, '9303'),
        cast(closing.id, '9304'),
        cast(open.id, '9305'),
      ]);
      expect(results.map((r) => (r.ok ? 'ok' : r.reason))).toEqual([
        'ok',
        'poll_closed',
        'ok',
        'poll_closed',
        'ok',
      ]);
      expect((await store.readTally(open.id))?.counts.o1).toBe(3);
      expect(await store.readTally(closed.id)).toEqual(before);
      expect(await store.readTally(closing.id)).toEqual(beforeClosing);
      // Alone, the same: the gate refuses it.
      expect(
        await store.cast({
          pollId: closing.id,
          questionId: 'q1',
          voter: webVoter('9306'),
          optionIds: ['o1'],
        }),
      ).toEqual({
        ok: false,
        reason: 'poll_closed',
      });
    });

    it('remembers chat messages per poll, and gives the winner announcement to one live process until it is made', async () => {
      const poll = await newPoll();
      const m = {
        platform: 'slack' as const,
        channel: 'C1',
        message_id: '1700.1',
        poll_id: poll.id,
        meta: { team: 'T1' },
      };
      await store.saveChatMessage(m);
      await store.saveChatMessage(m); // idempotent
      expect(await store.chatMessages(poll.id)).toEqual([m]);
      expect(await store.pollsWithLiveMessages()).toContain(poll.id);
      // The process holding the poll claims it; another cannot while that one lives, and one claim wins a race.
      expect(await store.acquireDeliveryLeases('bot-1', [poll.id], 15_000)).toEqual([poll.id]);
      const claims = await Promise.all(['bot-1', 'bot-2', 'bot-3'].map((o) => store.claimAnnouncement(m, o)));
      expect(claims).toEqual([true, false, false]);
      expect(await store.claimAnnouncement(m, 'bot-1')).toBe(true); // again, before its next attempt
      await store.closePoll(poll.id, 'admin');
      // Claimed is not made: the closed poll stays live, so its announcement is never lost with its claimer.
      expect(await store.pollsWithLiveMessages()).toContain(poll.id);
      // bot-1 dies (its lease goes): the next holder of the poll may make the announcement.
      await store.releaseDeliveryLeases('bot-1');
      expect(await store.acquireDeliveryLeases('bot-2', [poll.id], 15_000)).toEqual([poll.id]);
      expect(await store.claimAnnouncement(m, 'bot-2')).toBe(true);
      expect(await store.claimAnnouncement(m, 'bot-1')).toBe(false);
      await store.announcementMade(m);
      // Made: nobody claims it again, and a closed poll whose winner was announced is no longer live.
      expect(await store.claimAnnouncement(m, 'bot-2')).toBe(false);
      await store.releaseDeliveryLeases('bot-2');
      expect(await store.claimAnnouncement(m, 'bot-3')).toBe(false);
      expect(await store.pollsWithLiveMessages()).not.toContain(poll.id);
    });

    it('discards a poll nobody saw, but never one with a ballot or a chat message', async () => {
      const unseen = await newPoll();
      expect(await store.discardPoll(unseen.id, 'channel_not_found')).toBe(true);
      expect(await store.getPoll(unseen.id)).toBeNull();
      const voted = await newPoll();
      await store.cast({ pollId: voted.id, questionId: 'q1', voter: webVoter('77'), optionIds: ['o1'] });
      expect(await store.discardPoll(voted.id, 'x')).toBe(false);
      const posted = await newPoll();
      await store.saveChatMessage({
        platform: 'slack',
        channel: 'C',
        message_id: '1.2',
        poll_id: posted.id,
        meta: {},
      });
      expect(await store.discardPoll(posted.id, 'x')).toBe(false);
      expect(await store.getPoll(posted.id)).not.toBeNull();
    });

    it('marks a message gone once, and leaves it out of the live messages from then on', async () => {
      const poll = await newPoll();
      const m = {
        platform: 'slack' as const,
        channel: 'C9',
        message_id: '1700.9',
        poll_id: poll.id,
        meta: {},
      };
      await store.saveChatMessage(m);
      const marks = await Promise.all([1, 2, 3].map(() => store.markMessageGone(m, 'is_archived')));
      expect(marks.filter(Boolean)).toHaveLength(1);
      expect(await store.chatMessages(poll.id)).toEqual([]);
      expect(await store.pollsWithLiveMessages()).not.toContain(poll.id);
      expect(await store.claimMessageVersion(m, 5, 'a')).toBe(false);
    });

    it('lets one process claim each version of a message, its own retry included', async () => {
      const poll = await newPoll();
      const m = {
        platform: 'teams' as const,
        channel: 'conv',
        message_id: 'act1',
        poll_id: poll.id,
        meta: {},
      };
      await store.saveChatMessage(m);
      // The process holding the poll claims; a live claimant fences every other process off that version.
      const [owner, other] = ['a', 'b'];
      expect(await store.acquireDeliveryLeases(owner, [poll.id], 60_000)).toEqual([poll.id]);
      expect(await store.claimMessageVersion(m, 3, owner)).toBe(true);
      expect(await store.claimMessageVersion(m, 3, owner)).toBe(true); // a retry of its own claim
      expect(await store.claimMessageVersion(m, 3, other)).toBe(false);
      expect(await store.claimMessageVersion(m, 2, owner)).toBe(false); // never backwards
      expect(await store.claimMessageVersion(m, 4, other)).toBe(true);
    });

    it('lets another process claim a version again once its claimant no longer holds the poll (it may not show)', async () => {
      const poll = await newPoll();
      const m = { platform: 'slack' as const, channel: 'C9', message_id: '9.1', poll_id: poll.id, meta: {} };
      await store.saveChatMessage(m);
      expect(await store.acquireDeliveryLeases('bot-a', [poll.id], 60_000)).toEqual([poll.id]);
      expect(await store.claimMessageVersion(m, 7, 'bot-a')).toBe(true);
      expect(await store.claimMessageVersion(m, 7, 'bot-b')).toBe(false); // bot-a lives and holds the poll
      await store.releaseDeliveryLeases('bot-a'); // bot-a stops (or its lease lapses) before the platform took it
      expect(await store.acquireDeliveryLeases('bot-b', [poll.id], 60_000)).toEqual([poll.id]);
      expect(await store.claimMessageVersion(m, 7, 'bot-b')).toBe(true);
      expect(await store.claimMessageVersion(m, 7, 'bot-a')).toBe(false); // and now bot-b's is the live one
      expect(await store.claimMessageVersion(m, 6, 'bot-b')).toBe(false); // still never backwards
    });

    it("gives each poll's delivery lease to one owner until it expires or is released", async () => {
      const [p1, p2] = [await newPoll(), await newPoll()];
      const ids = [p1.id, p2.id];
      const grants = await Promise.all(['a', 'b'].map((o) => store.acquireDeliveryLeases(o, ids, 60_000)));
      // every poll has exactly one holder
      for (const id of ids) expect(grants.filter((g) => g.includes(id))).toHaveLength(1);
      const holderOf = (id: string) => (grants[0]?.includes(id) ? 'a' : 'b');
      expect(await store.acquireDeliveryLeases(holderOf(p1.id), [p1.id], 60_000)).toEqual([p1.id]); // renewal
      await store.releaseDeliveryLeases(holderOf(p1.id));
      const other = holderOf(p1.id) === 'a' ? 'b' : 'a';
      expect(await store.acquireDeliveryLeases(other, [p1.id], 60_000)).toEqual([p1.id]);
      // an expired lease is taken over
      await store.acquireDeliveryLeases('c', ['no-such-poll'], 1);
      const short = await newPoll();
      expect(await store.acquireDeliveryLeases('d', [short.id], 1)).toEqual([short.id]);
      await new Promise((r) => setTimeout(r, 20));
      expect(await store.acquireDeliveryLeases('e', [short.id], 60_000)).toEqual([short.id]);
      expect(await store.acquireDeliveryLeases('d', [short.id], 60_000)).toEqual([]);
    });

    it('remembers chat conversations per workspace, refreshes them, and forgets one the bot was removed from', async () => {
      const ws = `teams:t-${pollId()}`;
      const reference = {
        serviceUrl: 'https://smba.trafficmanager.net/amer',
        conversationId: '19:abc@thread.tacv2',
        tenantId: ws.slice(6),
        botId: '28:bot',
        conversationType: 'channel',
      };
      const c = {
        platform: 'teams' as const,
        conversation_id: reference.conversationId,
        workspace: ws,
        reference,
      };
      await store.saveConversation(c);
      await store.saveConversation({ ...c, reference: { ...reference, botName: 'livevote' } });
      expect(await store.conversation('teams', reference.conversationId)).toEqual({
        ...c,
        reference: { ...reference, botName: 'livevote' },
      });
      const other = { ...c, conversation_id: 'a:1', reference: { ...reference, conversationId: 'a:1' } };
      // PGlite's clock may give two saves in one millisecond the same time: make "the newest first" mean something.
      await new Promise((r) => setTimeout(r, 5));
      await store.saveConversation(other);
      expect((await store.conversations(ws)).map((x) => x.conversation_id)).toEqual([
        'a:1',
        c.conversation_id,
      ]);
      expect(await store.conversations(`${ws}-other`)).toEqual([]);
      await store.forgetConversation('teams', 'a:1');
      expect(await store.conversation('teams', 'a:1')).toBeNull();
      expect((await store.conversations(ws)).map((x) => x.conversation_id)).toEqual([c.conversation_id]);
      await store.saveConversation(other); // the bot is back
      expect(await store.conversation('teams', 'a:1')).not.toBeNull();
    });

    it("remembers who acted on a poll's card: voters first, then the others, most recent first", async () => {
      const poll = await newPoll();
      await store.rememberCardUser(poll.id, 'teams', '29:viewer-old', false);
      await store.rememberCardUser(poll.id, 'teams', '29:voter-a', true);
      await store.rememberCardUser(poll.id, 'teams', '29:viewer-new', false);
      await store.rememberCardUser(poll.id, 'teams', '29:voter-b', true);
      await store.rememberCardUser(poll.id, 'teams', '29:voter-a', false); // a refresh keeps the vote
      expect(await store.cardUsers(poll.id, 'teams', 60)).toEqual([
        '29:voter-a',
        '29:voter-b',
        '29:viewer-new',
        '29:viewer-old',
      ]);
      expect(await store.cardUsers(poll.id, 'teams', 3)).toEqual([
        '29:voter-a',
        '29:voter-b',
        '29:viewer-new',
      ]);
      expect(await store.cardUsers(poll.id, 'slack', 60)).toEqual([]);
      await store.rememberCardUser('no-such-poll', 'teams', '29:x', true); // nothing to remember it for
    });

    it('lists voters per option, and none for anonymous polls', async () => {
      const poll = await newPoll();
      await store.cast({
        pollId: poll.id,
        questionId: 'q1',
        voter: { platform: 'slack', tenant: 'T1', user: 'U9' },
        optionIds: ['o2'],
      });
      await store.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter('31'), optionIds: ['o2'] });
      expect(await store.votersByOption(poll.id)).toEqual({ o2: ['slack:T1:U9', 'emp:31'] });
      const anon = await newPoll(choice({ settings: { anonymous: true } }));
      await store.cast({ pollId: anon.id, questionId: 'q1', voter: webVoter('32'), optionIds: ['o1'] });
      expect(await store.votersByOption(anon.id)).toEqual({});
    });

    it('reports versions for many polls at once', async () => {
      const a = await newPoll();
      const b = await newPoll();
      await store.cast({ pollId: a.id, questionId: 'q1', voter: webVoter('1313'), optionIds: ['o1'] });
      const versions = await store.versions([a.id, b.id, 'missing']);
      expect(versions.get(a.id)).toBe((await store.readTally(a.id))?.version);
      expect(versions.get(b.id)).toBe(0);
      expect(versions.has('missing')).toBe(false);
    });

    describe('outbox (audit log and archive, delivered later)', () => {
      const vote = (id: string, emp: string, optionIds: string[], idempotencyKey?: string) =>
        store.cast({ pollId: id, questionId: 'q1', voter: webVoter(emp), optionIds, idempotencyKey });

      it('records each accepted interaction with the vote, and nothing for refusals or replays', async () => {
        const poll = await newPoll();
        await vote(poll.id, '501', ['o1'], 'k-501');
        await vote(poll.id, '501', ['o1'], 'k-501'); // replay of the same delivery
        await vote(poll.id, '501', ['o9']); // unknown option: refused
        await vote(poll.id, '501', ['o2']);
        await vote(poll.id, '501', []);
        const trail = await store.auditTrail(poll.id);
        expect(trail.map((e) => [e.type, e.option_ids, e.previous_option_ids])).toEqual([
          ['poll_created', undefined, undefined],
          ['vote', ['o1'], []],
          ['vote', ['o2'], ['o1']],
          ['retract', [], ['o2']],
        ]);
        expect(trail[1]).toMatchObject({
          voter: 'emp:501',
          platform: 'web',
          delivery_id: 'k-501',
          question_id: 'q1',
        });
        expect(new Set(trail.map((e) => e.event_id)).size).toBe(4);
      });

      it('records every vote of a concurrent burst (the batched path too)', async () => {
        const poll = await newPoll();
        const n = Math.min(opts.concurrency, 60);
        await Promise.all(Array.from({ length: n }, (_, i) => vote(poll.id, `b${i}`, [`o${(i % 3) + 1}`])));
        const votes = (await store.auditTrail(poll.id)).filter((e) => e.type === 'vote');
        expect(new Set(votes.map((e) => e.voter)).size).toBe(n);
      });

      it('never names a person for an anonymous poll, nor the delivery id, nor who added an option', async () => {
        const poll = await newPoll(choice({ settings: { anonymous: true, allow_add_options: true } }));
        await vote(poll.id, '777001', ['o1'], 'delivery-777001');
        await store.addOption(poll.id, 'q1', 'Ramen', 'emp:777002');
        await store.closePoll(poll.id, 'emp:777003');
        const trail = await store.auditTrail(poll.id);
        expect(trail.map((e) => e.type)).toEqual(['poll_created', 'vote', 'option_added', 'poll_closed']);
        expect(trail[1]).not.toHaveProperty('delivery_id');
        expect(JSON.stringify(trail)).not.toMatch(/77700|admin/);
        const options = await fx.sql('select added_by from options where poll_id = $1', [poll.id]);
        expect(options.every((o) => o.added_by === null)).toBe(true);
      });

      it('queues one archive row per close, leases rows to one drainer at a time, and purges after archiving', async () => {
        const poll = await newPoll();
        await vote(poll.id, '601', ['o1']);
        await store.closePoll(poll.id, 'admin');
        await store.closePoll(poll.id, 'admin'); // already closed: no second archive
        const other = await newPoll();
        await vote(other.id, '602', ['o2']);

        const leased = await store.leaseOutbox(10_000, 60_000);
        const mine = leased.filter((r) => r.poll_id === poll.id);
        expect(mine.map((r) => [r.kind, r.doc.type])).toEqual([
          ['audit', 'poll_created'],
          ['audit', 'vote'],
          ['audit', 'poll_closed'],
          ['archive', undefined],
        ]);
        expect(await store.outboxDepth()).toBeGreaterThanOrEqual(leased.length);
        // Leased rows are not handed to a second drainer until the lease ends or they are given back.
        expect(await store.leaseOutbox(10_000, 60_000)).toEqual([]);
        await store.outboxFailed(
          leased.map((r) => r.id),
          'archive unreachable',
        );
        const again = await store.leaseOutbox(10_000, 60_000);
        expect(again.map((r) => r.id)).toEqual(leased.map((r) => r.id));
        expect(again.every((r) => r.attempts === 2)).toBe(true);

        await store.outboxSent(again.map((r) => r.id));
        expect(await store.outboxDepth()).toBe(0);
        // The archived poll's delivered audit rows are gone; the open poll's stay for its future archive.
        expect(await store.auditTrail(poll.id)).toEqual([]);
        expect((await store.auditTrail(other.id)).map((e) => e.type)).toEqual(['poll_created', 'vote']);
      });

      it('gives back the rows of a drainer that died once its lease ends', async () => {
        const poll = await newPoll();
        await vote(poll.id, '603', ['o3']);
        const first = await store.leaseOutbox(10_000, 1);
        expect(first.length).toBeGreaterThan(0);
        await new Promise((r) => setTimeout(r, 20));
        const second = await store.leaseOutbox(10_000, 60_000);
        expect(second.map((r) => r.id)).toEqual(first.map((r) => r.id));
        await store.outboxSent(second.map((r) => r.id));
      });

      /** Leases everything pending; rows other than `mine` (left by other tests) are delivered out of the way. */
      async function leaseOnly(mine: number[]) {
        const leased = await store.leaseOutbox(10_000, 60_000);
        await store.outboxSent(leased.filter((r) => !mine.includes(r.id)).map((r) => r.id));
        return leased.filter((r) => mine.includes(r.id));
      }
      async function rowsOf(pollId: string) {
        const rows = await fx.sql<{ id: string }>('select id from outbox where poll_id = $1 order by id', [
          pollId,
        ]);
        return rows.map((r) => Number(r.id));
      }

      it('parks a row after N refusals of its own, not after retries of its batch, and stops leasing it', async () => {
        const poll = await newPoll();
        await vote(poll.id, '611', ['o1']);
        const [created, voted] = (await rowsOf(poll.id)) as [number, number];
        const refuse = async (parkAfter?: number) => {
          const [row] = await leaseOnly([voted]);
          expect(row?.id).toBe(voted);
          return store.outboxFailed([voted], 'document too large', parkAfter);
        };

        expect(await refuse(3)).toEqual([]);
        // Batch failures (archive down) give the row back without counting toward parking.
        for (let i = 0; i < 4; i++) expect(await refuse()).toEqual([]);
        expect(await refuse(3)).toEqual([]);
        expect(await store.outboxParked()).toBe(0);
        expect(await refuse(3)).toEqual([voted]);

        expect(await store.outboxParked()).toBe(1);
        expect(await store.outboxDepth()).toBe(0);
        expect(await leaseOnly([voted])).toEqual([]);
        const [kept] = await fx.sql<{ last_error: string; sent_at: Date | null }>(
          'select last_error, sent_at from outbox where id = $1',
          [voted],
        );
        expect(kept).toEqual({ last_error: 'document too large', sent_at: null });
        // The poll's other row was not held back.
        expect(
          await fx.sql('select 1 from outbox where id = $1 and sent_at is not null', [created]),
        ).toHaveLength(1);
      });

      it('retries parked rows, chosen or all, with a fresh count', async () => {
        const poll = await newPoll();
        await vote(poll.id, '612', ['o1']);
        await vote(poll.id, '613', ['o2']);
        const [, a, b] = (await rowsOf(poll.id)) as [number, number, number];
        const parkedBefore = await store.outboxParked();
        await leaseOnly([a, b]);
        expect(await store.outboxFailed([a, b], 'rejected', 1)).toEqual([a, b]);
        expect(await store.outboxParked()).toBe(parkedBefore + 2);

        expect(await store.retryParkedOutbox([a])).toBe(1);
        expect(await store.retryParkedOutbox([a])).toBe(0); // no longer parked
        expect(await store.outboxParked()).toBe(parkedBefore + 1);
        const [again] = await leaseOnly([a, b]);
        expect([again?.id, again?.attempts]).toEqual([a, 1]);
        // A fresh count: one more refusal parks it only once the threshold is reached again.
        expect(await store.outboxFailed([a], 'rejected', 2)).toEqual([]);

        expect(await store.retryParkedOutbox()).toBe(parkedBefore + 1);
        expect(await store.outboxParked()).toBe(0);
        expect((await leaseOnly([a, b])).map((r) => r.id)).toEqual([a, b]);
        await store.outboxSent([a, b]);
        expect(await store.outboxDepth()).toBe(0);
      });
    });
  });
}
