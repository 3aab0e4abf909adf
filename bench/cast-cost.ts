// What one durable vote costs at the store, against what the Socket.IO baseline's write costs, at an office's pace:
// one call every 100 ms (the fan-out bench's cadence per instance), every 10 ms, and back to back. At 100 ms the
// machine idles between calls, so each one pays for waking the processes and for cold caches; that is where the
// fan-out bench's floor row lives, and where a vote's p50 behind the baseline comes from.
//
// Probes, each on its own connection, on a private Postgres 15 cluster (a deployment's, not the shared one) and the
// shared Redis:
// - `select 1`: the round trip any service pays;
// - a one-row insert, autocommitted with synchronous_commit on: the smallest durable write;
// - the cast as SqlStore made it before migration 20 (`call lv_cast_commit` with a JSON batch of one, on a database
//   migrated up to 19; the same statement and parameters, sent through pg as the store sent them), and `store.cast`
//   today (SqlStore over pg: lv_cast_commit_one, migration 20) on a database with every migration, one distinct
//   voter per call, so the A/B runs in the same rounds on the same cluster;
// - the baseline's write: Redis MULTI of HINCRBY, INCR, HGETALL (bench/lib/socketio-server.ts), no durability.
// Probes alternate round by round; the table gives medians over the rounds of each probe's p50 and p90.
//
// `npm run bench:cast` writes its section of bench/RESULTS.md; ROUNDS=n (default 4), SAMPLES=n per probe, gap and
// round (default 60).
import { randomInt } from 'node:crypto';
import { loadavg } from 'node:os';
import {
  createCore,
  createPoll,
  MemoryBus,
  MIGRATIONS,
  migrate,
  PollKeys,
  pgDriver,
  SHARDS,
  SqlStore,
  webVoter,
} from '@livevote/core';
import { TEST_ANONYMITY_KEY, testPrefix } from '@livevote/core/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createPgCluster } from './lib/pg-cluster.ts';
import { machine, median, percentile, writeSection } from './lib/results.ts';

const ROUNDS = Number(process.env.ROUNDS) || 4;
const SAMPLES = Number(process.env.SAMPLES) || 60;
const GAPS = [100, 10, 0];
/** The migration this bench's A/B is about: "before" stops just short of it. */
const CHANGE = 20;

type Probe = { name: string; once: () => Promise<unknown> };

/** A database with a lunch poll, migrated up to `upTo`, and the store over it (casts only used with every migration). */
async function storeOn(url: string, upTo: number) {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  const driver = pgDriver(pool);
  const pollKeys = new PollKeys(TEST_ANONYMITY_KEY);
  await migrate(
    driver,
    MIGRATIONS.filter((m) => m.version <= upTo),
    { pollKeys },
  );
  // What the realtime role runs with no archive configured (the fan-out bench's setting): no audit rows.
  const store = new SqlStore(driver, { anonymityKey: TEST_ANONYMITY_KEY, audit: false });
  const core = createCore(store, new MemoryBus());
  const created = await createPoll(
    core,
    {
      template: 'lunch',
      places: ['A', 'B', 'C'].map((name) => ({ name, menus: [{ name: `${name}1` }] })),
    },
    { kind: 'admin' },
  );
  if (!created.ok) throw new Error(created.message);
  const pollId = created.value.poll.id;
  let voter = 0;
  const next = () => {
    const n = ++voter;
    return { option: `p${(n % 3) + 1}`, emp: String(1_000_000 + n) };
  };
  const cast = async () => {
    const { option, emp } = next();
    const outcome = await store.cast({
      pollId,
      questionId: 'place',
      optionIds: [option],
      voter: webVoter(emp),
    });
    if (!outcome.ok) throw new Error(`cast refused: ${outcome.reason}`);
  };
  // SqlStore's call before migration 20, statement and parameters as it built them.
  const castAsBefore = async () => {
    const { option, emp } = next();
    const casts = [
      {
        poll: pollId,
        question: 'place',
        platform: 'web',
        tenant: 'web',
        user: emp,
        emp,
        options: [option],
        key: null,
      },
    ];
    const { rows } = await pool.query({
      name: 'cast-before',
      text: 'call lv_cast_commit($1::jsonb, $2::int, $3::boolean, $4, $5, null)',
      values: [
        JSON.stringify(casts),
        randomInt(SHARDS),
        false,
        '86400000',
        pollKeys.setting(new Set([pollId])),
      ],
    });
    if (rows[0]?.r?.outcomes?.[0]?.ok !== true) throw new Error('cast refused');
  };
  const counted = async () => (await store.readTally(pollId))?.totalVoters ?? 0;
  return {
    cast,
    castAsBefore,
    counted,
    casts: () => voter,
    close: () => pool.end(),
    stop: () => core.events.stop(),
  };
}

async function measure(probe: Probe, gapMs: number, samples: number): Promise<number[]> {
  await probe.once(); // the connection is open and the statement prepared before timing starts
  const ms: number[] = [];
  for (let i = 0; i < samples; i++) {
    if (gapMs > 0) await new Promise((r) => setTimeout(r, gapMs));
    const t = performance.now();
    await probe.once();
    ms.push(performance.now() - t);
  }
  return ms.sort((a, b) => a - b);
}

async function main() {
  const cluster = await createPgCluster((line) => console.log(line));
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  await admin.query('create database cast_before');
  await admin.query('create database cast_after');
  await admin.end();
  const before = await storeOn(cluster.url('cast_before'), CHANGE - 1);
  const after = await storeOn(cluster.url('cast_after'), CHANGE);
  const plain = new pg.Client({ connectionString: cluster.url('cast_after') });
  await plain.connect();
  await plain.query('create table commit_probe (id bigint generated always as identity, at timestamptz)');
  const redis = new Redis('redis://127.0.0.1:6379');
  const prefix = testPrefix();
  const probes: Probe[] = [
    { name: 'select 1 (Postgres round trip)', once: () => plain.query({ name: 's1', text: 'select 1' }) },
    {
      name: 'one-row durable insert',
      once: () => plain.query({ name: 'ins', text: 'insert into commit_probe (at) values (now())' }),
    },
    { name: `livevote cast before migration ${CHANGE}`, once: before.castAsBefore },
    { name: 'livevote cast now (store.cast)', once: after.cast },
    {
      name: "baseline's write (Redis MULTI, not durable)",
      once: () =>
        redis
          .multi()
          .hincrby(`${prefix}tally`, 'p1', 1)
          .incr(`${prefix}version`)
          .hgetall(`${prefix}tally`)
          .exec(),
    },
  ];
  const started = new Date();
  const load0 = loadavg()[0] ?? 0;
  // figures[gap][probe] = one [p50, p90] per round
  const figures = new Map<number, Map<string, [number, number][]>>();
  try {
    for (let round = 0; round < ROUNDS; round++) {
      // Rotate the order every round, so no probe always runs right after the same one.
      const order = probes.map((_, i) => probes[(i + round) % probes.length] as Probe);
      for (const gap of GAPS) {
        const byProbe = figures.get(gap) ?? new Map<string, [number, number][]>();
        figures.set(gap, byProbe);
        for (const probe of order) {
          const ms = await measure(probe, gap, gap === 0 ? SAMPLES * 5 : SAMPLES);
          const list = byProbe.get(probe.name) ?? [];
          list.push([percentile(ms, 50), percentile(ms, 90)]);
          byProbe.set(probe.name, list);
          console.log(
            `round ${round + 1} gap ${gap} ms ${probe.name}: p50 ${percentile(ms, 50).toFixed(3)} p90 ${percentile(ms, 90).toFixed(3)} ms`,
          );
        }
      }
    }
    // Correctness: every cast counted once (each is a new voter).
    for (const [name, s] of [
      ['before', before],
      ['after', after],
    ] as const) {
      const counted = await s.counted();
      if (counted !== s.casts()) throw new Error(`${name}: ${s.casts()} casts, ${counted} voters counted`);
    }
  } finally {
    before.stop();
    after.stop();
    await Promise.all([before.close(), after.close(), plain.end()]);
    redis.disconnect();
    await cluster.drop();
  }
  const med = (gap: number, name: string, i: 0 | 1) =>
    median((figures.get(gap)?.get(name) ?? []).map((f) => f[i]));
  const fmt = (x: number) => (Number.isFinite(x) ? x.toFixed(2) : '—');
  const gapName = (g: number) => (g === 0 ? 'back to back' : `every ${g} ms`);
  const header = `| probe | ${GAPS.map((g) => `${gapName(g)}: p50 / p90 ms`).join(' | ')} |`;
  const rows = probes.map(
    (p) =>
      `| ${p.name} | ${GAPS.map((g) => `${fmt(med(g, p.name, 0))} / ${fmt(med(g, p.name, 1))}`).join(' | ')} |`,
  );
  const ratio = (g: number, a: string, b: string) => med(g, a, 0) / med(g, b, 0);
  const [sel, ins, castBefore, castAfter, redisWrite] = probes.map((p) => p.name) as [
    string,
    string,
    string,
    string,
    string,
  ];
  const notes = GAPS.map(
    (g) =>
      `- ${gapName(g)}: the cast after ÷ before **${ratio(g, castAfter, castBefore).toFixed(2)}×** (p50); the cast ÷ the baseline's write ${ratio(g, castAfter, redisWrite).toFixed(2)}× (${fmt(med(g, castAfter, 0) - med(g, redisWrite, 0))} ms more); the cast minus a one-row durable insert ${fmt(med(g, castAfter, 0) - med(g, ins, 0))} ms; a one-row durable insert minus \`select 1\` ${fmt(med(g, ins, 0) - med(g, sel, 0))} ms.`,
  );
  const body = `Machine: ${machine('a private PostgreSQL 15 cluster (synchronous_commit on) and the shared Redis on the same machine')}. Command: \`npm run bench:cast\` (${started.toISOString().slice(0, 16).replace('T', ' ')} UTC, load average ${load0.toFixed(1)} at the start, ${((Date.now() - started.getTime()) / 60_000).toFixed(1)} min). ${ROUNDS} rounds, probes alternating in a rotating order; per probe, gap and round ${SAMPLES} calls (${SAMPLES * 5} back to back); medians over the rounds of each round's p50 and p90.

${header}
|---|${GAPS.map(() => '---').join('|')}|
${rows.join('\n')}

${notes.join('\n')}
- Each cast is a new voter on a lunch poll's place question, no Idempotency-Key, no audit row (no archive configured), as in the fan-out bench; after the rounds the tally must count every cast exactly once (it did).
- Read with the fan-out bench's floor row: what livevote's vote → screen p50 carries beyond the baseline's is, first, this difference between a durable commit with its checks and counters and an in-memory Redis increment, paid before anything may be shown (commit first, then publish).`;
  writeSection('cast cost at an office pace', body);
  console.log(`\n${body}`);
}

await main();
