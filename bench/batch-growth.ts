// What one group commit costs as the tables grow: batches of 128 casts by new voters (each with an Idempotency-Key,
// the audit row on) into one poll, on a fresh database, timed per 50 batches. The baseline is the same run's first
// 50 batches: a batch must cost the same at 38,400 ballots as at 6,400. Its lookups used to be joins that a plan
// cached on small tables ran as whole-table scans, so each batch cost more than the one before (migration 14).
import { loadavg } from 'node:os';
import { createCore, createPgStore, createPoll, MemoryBus, webVoter } from '@livevote/core';
import { createTestDatabase, TEST_ANONYMITY_KEY } from '@livevote/core/testing';
import pg from 'pg';
import { machine, median, writeSection } from './lib/results.ts';

const BATCH = 128;
const STEPS = 6;
const PER_STEP = 50;

const db = await createTestDatabase();
const pool = new pg.Pool({ connectionString: db.url, max: 4 });
try {
  const store = await createPgStore(pool, { audit: true, anonymityKey: TEST_ANONYMITY_KEY });
  const core = createCore(store, new MemoryBus());
  const created = await createPoll(
    core,
    { template: 'choice', title: 'growth', options: ['a', 'b', 'c', 'd', 'e'] },
    { kind: 'admin' },
  );
  if (!created.ok) throw new Error(created.message);
  const pollId = created.value.poll.id;
  const load = loadavg()[0] ?? 0;
  let voter = 0;
  const steps: { ballots: number; ms: number }[] = [];
  for (let step = 0; step < STEPS; step++) {
    const times: number[] = [];
    for (let b = 0; b < PER_STEP; b++) {
      const t = performance.now();
      // Cast in one turn, so they leave as one batch (one lv_cast_commit call).
      const outcomes = await Promise.all(
        Array.from({ length: BATCH }, (_, i) => {
          voter++;
          return store.cast({
            pollId,
            questionId: 'q1',
            voter: webVoter(String(voter)),
            optionIds: [`o${(i % 5) + 1}`],
            idempotencyKey: `g${voter}`,
          });
        }),
      );
      times.push(performance.now() - t);
      if (outcomes.some((o) => !o.ok || !o.changed)) throw new Error('a cast was refused');
    }
    steps.push({ ballots: voter, ms: median(times) });
    console.log(`${voter} ballots: ${median(times).toFixed(2)} ms per batch of ${BATCH}`);
  }
  const tally = await store.readTally(pollId);
  if (tally?.totalVoters !== voter) throw new Error(`counted ${tally?.totalVoters} voters of ${voter}`);
  const first = steps[0]?.ms ?? Number.NaN;
  writeSection(
    `batch cost as the tables grow — ${new Date().toISOString().slice(0, 10)}`,
    `Machine: ${machine('PostgreSQL on the same machine')}; load average ${load.toFixed(1)} at the start. Command: \`npm run bench:batch\`.
A fresh database; batches of ${BATCH} casts by new voters (Idempotency-Key and audit row on) into one poll, ${PER_STEP} batches per
step; the median batch, from the store's cast to the last answer (commit and tally read included). Baseline: the
first step of the same run.

| ballots in the table after the step | ms per batch (median) | µs per cast | ÷ first step |
|---|---|---|---|
${steps.map((s) => `| ${s.ballots} | ${s.ms.toFixed(2)} | ${((1000 * s.ms) / BATCH).toFixed(0)} | ${(s.ms / first).toFixed(2)}× |`).join('\n')}

Before migration 14 (this script on 0ca85a3, the same database server, alternating with two runs of this one):
12.63, 14.20, 15.24, 16.23, 17.51, 19.31 ms and 11.69, 12.95, 14.93, 16.00, 17.26, 18.85 ms (1.53× and 1.61× the
first step): the batch's joins to ballots and idempotency ran as scans of the whole tables under a plan the session
had cached while they were small, so every batch cost more than the one before. Every vote was counted once (the
tally's voters equal the casts).`,
  );
} finally {
  await pool.end();
  await db.drop();
}
