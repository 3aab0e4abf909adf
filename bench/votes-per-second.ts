// Durable votes/s on one hot poll: a vote counts when its call returned after the Postgres commit. livevote (in
// process and over HTTP, on Postgres and on PGlite) against a naive baseline in the same run: one transaction per
// vote that bumps a version on the poll's single row, as many apps do. Every cell is checked: no vote lost or doubled.

import { fork } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loadavg } from 'node:os';
import { PGlite } from '@electric-sql/pglite';
import {
  castVote,
  createCore,
  createPgliteStore,
  createPgStore,
  createPoll,
  MemoryBus,
  type Store,
  webVoter,
} from '@livevote/core';
import { createTestDatabase, TEST_ANONYMITY_KEY } from '@livevote/core/testing';
import { createHttpApp } from '@livevote/realtime';
import pg from 'pg';
import type { LoadResult } from './lib/http-load.ts';
import { machine, median, percentile, writeSection } from './lib/results.ts';

interface Cell {
  target: string;
  store: string;
  c: number;
  runs: { rate: number; p50: number; p99: number; load: number; client?: number }[];
  lost: number;
  doubled: number;
  naive?: number;
  /** Same cell with the audit outbox off (no archive configured), run alternately in the same rounds. */
  noOutbox?: number[];
}

const quiet = { info() {}, warn() {}, error() {} };
const POLL = { template: 'choice' as const, title: 'hot', options: ['a', 'b', 'c', 'd', 'e'] };
let voterBase = 1;

/** Runs the HTTP load generator as its own process and returns what it measured. */
function load(job: object): Promise<LoadResult> {
  return new Promise((resolve, reject) => {
    const child = fork(new URL('./lib/http-load.ts', import.meta.url).pathname, [JSON.stringify(job)], {
      execArgv: ['--import', 'tsx'],
    });
    child.once('message', (m) => resolve(m as LoadResult));
    child.once('error', reject);
    child.once('exit', (code) => code !== 0 && reject(new Error(`load generator exited with ${code}`)));
  });
}

async function livevote(store: Store, over: 'service' | 'http', n: number, c: number) {
  const core = createCore(store, new MemoryBus());
  const created = await createPoll(core, POLL, { kind: 'admin' });
  if (!created.ok) throw new Error(created.message);
  const pollId = created.value.poll.id;
  const offset = voterBase;
  voterBase += n + 10;
  let seconds: number;
  let latencies: number[];
  let failed = 0;
  let client: number | undefined;
  let close = async () => {};
  let url = '';
  if (over === 'service') {
    latencies = [];
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: c }, async () => {
        while (next < n) {
          const i = next++;
          const s = performance.now();
          const r = await castVote(core, {
            pollId,
            questionId: 'q1',
            optionIds: [`o${(i % 5) + 1}`],
            voter: webVoter(String(offset + i)),
            idempotencyKey: `k${i}`,
          });
          latencies.push(performance.now() - s);
          if (!r.ok) failed++;
        }
      }),
    );
    seconds = (performance.now() - t0) / 1000;
  } else {
    const server = createServer(
      createHttpApp({
        core,
        auth: { mode: 'open', adminToken: 'bench-admin-token-0123' },
        log: quiet,
      }),
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((r) => server.close(() => r()));
    const r = await load({ url, pollId, n, c, offset, keyPrefix: 'k' });
    ({ seconds, latencies, failed } = r);
    client = r.cpu;
  }
  // Correctness: every acknowledged vote is in the tally exactly once.
  const t = await store.readTally(pollId);
  const expected = [0, 1, 2, 3, 4].map(
    (k) => Array.from({ length: n }, (_, i) => i % 5).filter((x) => x === k).length,
  );
  const counts = [1, 2, 3, 4, 5].map((k) => t?.counts[`o${k}`] ?? 0);
  let lost = Math.max(0, n - failed - (t?.totalVoters ?? 0));
  let doubled =
    Math.max(0, (t?.totalVoters ?? 0) - n) +
    counts.reduce((a, x, i) => a + Math.max(0, x - (expected[i] ?? 0)), 0);
  if (t?.version !== n) lost += Math.max(0, n - (t?.version ?? 0));
  if (over === 'http' && c === 64) {
    // Replaying 1,000 requests with their Idempotency-Keys must change nothing.
    await load({ url, pollId, n: 1000, c: 32, offset, keyPrefix: 'k' });
    const again = await store.readTally(pollId);
    if (again?.version !== t?.version || again?.totalVoters !== t?.totalVoters) doubled += 1000;
  }
  await close();
  latencies.sort((a, b) => a - b);
  return {
    rate: n / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    lost: lost + failed,
    doubled,
    load: loadavg()[0] ?? 0,
    client,
  };
}

async function naive(pool: pg.Pool, n: number, c: number) {
  const poll = `naive${voterBase}`;
  const offset = voterBase;
  voterBase += n + 10;
  await pool.query('insert into naive_polls (id, version) values ($1, 0)', [poll]);
  const latencies: number[] = [];
  let next = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: c }, async () => {
      const client = await pool.connect();
      try {
        while (next < n) {
          const i = next++;
          const s = performance.now();
          await client.query('begin');
          await client.query(
            `insert into naive_ballots (poll, voter, option) values ($1, $2, $3)
             on conflict (poll, voter) do update set option = excluded.option`,
            [poll, String(offset + i), `o${(i % 5) + 1}`],
          );
          await client.query('update naive_polls set version = version + 1 where id = $1', [poll]);
          await client.query('select option, count(*) from naive_ballots where poll = $1 group by option', [
            poll,
          ]);
          await client.query('commit');
          latencies.push(performance.now() - s);
        }
      } finally {
        client.release();
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const { rows } = await pool.query(
    'select (select version from naive_polls where id = $1) as v, (select count(*)::int from naive_ballots where poll = $1) as n',
    [poll],
  );
  latencies.sort((a, b) => a - b);
  const got = rows[0] as { v: number; n: number };
  return {
    rate: n / seconds,
    p50: percentile(latencies, 50),
    p99: percentile(latencies, 99),
    lost: Math.max(0, n - got.n),
    doubled: Math.max(0, got.n - n),
  };
}

async function main() {
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 16 });
  // As deployed with MongoDB: every change also writes its audit row to the outbox in the same transaction.
  const pgStore = await createPgStore(pool, { audit: true, anonymityKey: TEST_ANONYMITY_KEY });
  const pgPlain = await createPgStore(pool, { audit: false, anonymityKey: TEST_ANONYMITY_KEY });
  await pool.query('create table naive_polls (id text primary key, version bigint not null)');
  await pool.query(
    'create table naive_ballots (poll text, voter text, option text, primary key (poll, voter))',
  );
  const version = ((await pool.query('show server_version')).rows[0] as { server_version: string })
    .server_version;
  const lite = await PGlite.create();
  const liteStore = await createPgliteStore(lite, { audit: false, anonymityKey: TEST_ANONYMITY_KEY }); // as embedded runs: no archive, no outbox
  const cells: Cell[] = [];
  const ROUNDS = Number(process.env.ROUNDS ?? 3);
  const plan: { target: 'service' | 'http'; store: 'Postgres' | 'PGlite'; c: number; n: number }[] = [
    { target: 'service', store: 'Postgres', c: 1, n: 1_500 },
    { target: 'service', store: 'Postgres', c: 64, n: 12_000 },
    { target: 'service', store: 'Postgres', c: 256, n: 12_000 },
    { target: 'http', store: 'Postgres', c: 1, n: 1_000 },
    { target: 'http', store: 'Postgres', c: 64, n: 8_000 },
    { target: 'http', store: 'Postgres', c: 256, n: 8_000 },
    { target: 'service', store: 'PGlite', c: 1, n: 1_000 },
    { target: 'service', store: 'PGlite', c: 64, n: 4_000 },
    { target: 'http', store: 'PGlite', c: 64, n: 3_000 },
  ];
  // CELLS=http/Postgres/256,service/Postgres/64 runs only those cells and prints them (RESULTS.md is left alone).
  const only = process.env.CELLS?.split(',').map((x) => x.trim());
  const chosen = only ? plan.filter((p) => only.includes(`${p.target}/${p.store}/${p.c}`)) : plan;
  if (chosen.length === 0) throw new Error(`CELLS=${process.env.CELLS} names no cell (target/store/C)`);
  for (const p of chosen) {
    const cell: Cell = {
      target: `livevote ${p.target}`,
      store: p.store,
      c: p.c,
      runs: [],
      lost: 0,
      doubled: 0,
    };
    const naiveRates: number[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const r = await livevote(p.store === 'Postgres' ? pgStore : liteStore, p.target, p.n, p.c);
      cell.runs.push(r);
      cell.lost += r.lost;
      cell.doubled += r.doubled;
      if (p.store === 'Postgres' && p.target === 'service')
        naiveRates.push((await naive(pool, p.n, Math.min(p.c, 16))).rate);
      if (p.store === 'Postgres' && p.target === 'service' && p.c === 64) {
        const plain = await livevote(pgPlain, p.target, p.n, p.c);
        cell.noOutbox = [...(cell.noOutbox ?? []), plain.rate];
        cell.lost += plain.lost;
        cell.doubled += plain.doubled;
      }
    }
    if (naiveRates.length) cell.naive = median(naiveRates);
    cells.push(cell);
    const m = median(cell.runs.map((r) => r.rate));
    const clientCpu = loadGeneratorCpu(cell);
    console.log(
      `${cell.target} ${cell.store} C=${cell.c}: ${Math.round(m)} votes/s (${cell.runs.map((r) => Math.round(r.rate)).join(', ')})${cell.naive ? ` (naive ${Math.round(cell.naive)})` : ''}${clientCpu.length ? ` load generator ${percent(median(clientCpu))} of a core` : ''} lost ${cell.lost} doubled ${cell.doubled}`,
    );
  }
  const rows = cells.map((cell) => {
    const rates = cell.runs.map((r) => r.rate);
    const med = median(rates);
    const p50 = median(cell.runs.map((r) => r.p50));
    const p99 = median(cell.runs.map((r) => r.p99));
    const client = loadGeneratorCpu(cell);
    return `| ${cell.target} | ${cell.store} | ${cell.c} | ${cell.runs.map((r) => r.load.toFixed(1)).join(', ')} | ${Math.round(med)} (${Math.round(Math.min(...rates))}–${Math.round(Math.max(...rates))}) | ${p50.toFixed(2)} | ${p99.toFixed(2)} | ${client.length ? percent(median(client)) : '—'} | ${cell.naive ? `${(med / cell.naive).toFixed(2)}× (naive ${Math.round(cell.naive)})` : '—'} | ${cell.lost} | ${cell.doubled} |`;
  });
  const outboxNotes = cells
    .filter((c) => c.noOutbox)
    .map((c) => {
      const on = median(c.runs.map((r) => r.rate));
      const off = median(c.noOutbox ?? []);
      return `- Audit outbox cost (${c.target}, C=${c.c}, same rounds, alternating): ${Math.round(on)} votes/s with the outbox row written in each vote's transaction vs ${Math.round(off)} without (no archive configured) = ${(on / off).toFixed(2)}×. The drainer was not running here; in production it adds one leased batch read and one update per 500 rows.`;
    });
  const pgHot = cells
    .filter((c) => c.store === 'Postgres' && c.c > 1)
    .map((c) => {
      const m = Math.round(median(c.runs.map((r) => r.rate)));
      return `${c.target} C=${c.c}: ${m} (${m >= 5000 ? 'met' : 'missed'})`;
    });
  if (only) return finish();
  writeSection(
    `votes/s — ${new Date().toISOString().slice(0, 10)}`,
    `Machine: ${machine(`PostgreSQL ${version} on the same machine`)}. Command: \`npm run bench:votes\`. ${ROUNDS} runs per cell, livevote and the naive baseline alternating; the median with min–max.

| target | store | concurrent voters | load avg (1 min) per round | votes/s median (min–max) | p50 ms | p99 ms | load generator CPU (of one core) | vs naive (same C, ≤16 connections) | lost | doubled |
|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

- A vote counts only when its call returned, which is after Postgres committed it (synchronous_commit on).
  Every voter is distinct and carries an Idempotency-Key; after each run the tally is checked option by option
  against what was sent, and the version must have grown by exactly the number of votes. For HTTP at C=64, 1,000
  requests are then replayed with their keys and must change nothing. "lost" and "doubled" count any difference.
- *livevote service* calls the cast use-case in process (rules → the store's cast: the casts of one event-loop
  turn, and those arriving while the instance's one cast transaction is in flight, leave together in one
  \`lv_cast_commit\` call — \`lv_cast_set\`, one statement with their audit rows, or \`lv_cast\` when alone — which
  commits and then reads the tally in the same round trip). *livevote HTTP* is the real HTTP edge (the vote fast path
  in front of the Express API, \`createHttpApp\`), loaded from a separate process over keep-alive connections; the
  2 cores are shared by Postgres, the server and the load generator.
- *naive* is what many apps do: per vote one transaction that upserts the ballot, bumps a version on the poll's
  single row and reads the counts back — every vote on a hot poll queues on that row.
- Goal ≥ 5,000 acknowledged votes/s on Postgres: ${pgHot.join('; ')}.
${outboxNotes.join('\n')}`,
  );
  await finish();

  async function finish() {
    await pool.end();
    await lite.close();
    await db.drop();
    if (cells.some((c) => c.lost > 0 || c.doubled > 0)) {
      console.error('some votes were lost or doubled');
      process.exitCode = 1;
    }
  }
}

const percent = (x: number) => `${Math.round(x * 100)} %`;
/** The load generator's CPU in each HTTP run of the cell (none for in-process cells). */
const loadGeneratorCpu = (cell: Cell) => cell.runs.flatMap((r) => (r.client === undefined ? [] : [r.client]));

await main();
