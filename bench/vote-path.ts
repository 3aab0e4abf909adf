// Where a vote's time goes at a steady load: one fan-out load (default 1,000 clients on 2 instances, 20 votes/s for
// 20 s) against livevote on a private Postgres cluster, with every instrument on:
// - the physical floor: pg_test_fsync's fdatasync on the cluster's disk, and a durable one-row commit measured
//   through the driver on the same cluster;
// - each stage of each vote from its Server-Timing header (edge, rules, commit, snapshot), the bus's
//   delay between instances (livevote_bus_delay_seconds), the broadcasts' frame and write time;
// - the instances' event-loop delay over the load (prom-client's monitorEventLoopDelay) and every GC pause
//   (--trace-gc), and, with PROFILE=1, a CPU profile of each instance (--cpu-prof) summarised by self time;
// - Postgres: pg_stat_statements over the load and the statements log_min_duration_statement caught.
//
// `npm run bench:vote-path` writes its section of bench/RESULTS.md; LOADS=floor|1k|2k picks the load
// (default 1k), SECONDS=n its length, PROFILE=1 adds the CPU profiles (they cost the instances some CPU).
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { LOADS, livevote, type Run, run, scrape, type Target } from './lib/fanout-run.ts';
import { ROOT } from './lib/instances.ts';
import { createPgCluster } from './lib/pg-cluster.ts';
import { machine, percentile, writeSection } from './lib/results.ts';

const exec = promisify(execFile);
const fmt = (x: number, d = 2) => (Number.isFinite(x) ? x.toFixed(d) : '—');

/** pg_test_fsync's fdatasync line (Linux's default wal_sync_method): ops/s and µs per op, one 8 kB write. */
async function fsyncFloor(dir: string): Promise<{ opsPerSec: number; usPerOp: number } | null> {
  const bin = '/usr/lib/postgresql/15/bin/pg_test_fsync';
  if (!existsSync(bin)) return null;
  const { stdout } = await exec(bin, ['-s', '2', '-f', join(dir, 'pg_test_fsync.tmp')], { timeout: 120_000 });
  const m = /^\s+fdatasync\s+([\d.]+) ops\/sec\s+(\d+) usecs\/op/m.exec(stdout);
  return m ? { opsPerSec: Number(m[1]), usPerOp: Number(m[2]) } : null;
}

/** One-row durable commits through the driver (autocommit, synchronous_commit on): what a commit costs here. */
async function commitCost(url: string, n = 300): Promise<{ p50: number; p99: number }> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query(
    'create table if not exists commit_probe (id bigint generated always as identity, at timestamptz)',
  );
  const ms: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await c.query({ name: 'probe', text: 'insert into commit_probe (at) values (now())' });
    ms.push(performance.now() - t);
  }
  await c.end();
  ms.sort((a, b) => a - b);
  return { p50: percentile(ms, 50), p99: percentile(ms, 99) };
}

/** Every `--trace-gc` pause in the instances' logs: "… ms: Scavenge 10.1 (12.0) -> 9.8 (12.5) MB, 1.23 / 0.00 ms". */
function gcPauses(logs: string[]): { kind: string; ms: number; heapMb: number }[] {
  const out: { kind: string; ms: number; heapMb: number }[] = [];
  for (const file of logs) {
    if (!existsSync(file)) continue;
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const m = /ms: ([A-Za-z-]+(?: \([a-z ]+\))?)[^,]*?(\d+(?:\.\d+)?) \(\S+\) MB, ([\d.]+) \/ /.exec(line);
      if (m) out.push({ kind: m[1] as string, heapMb: Number(m[2]), ms: Number(m[3]) });
    }
  }
  return out;
}

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

/**
 * Self time by function over every .cpuprofile in dir, counting only samples taken inside the load window (µs of
 * the monotonic clock, which V8's profile timestamps and process.hrtime share on Linux), idle excluded.
 */
function profileSummary(dir: string, window: [number, number], top = 15): { name: string; share: number }[] {
  const self = new Map<string, number>();
  let total = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as {
      nodes: ProfileNode[];
      startTime: number;
      samples: number[];
      timeDeltas: number[];
    };
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    let t = p.startTime;
    for (let i = 0; i < p.samples.length; i++) {
      t += p.timeDeltas[i] ?? 0;
      if (t < window[0] || t > window[1]) continue;
      const n = byId.get(p.samples[i] as number);
      if (!n || n.callFrame.functionName === '(idle)') continue;
      const where = n.callFrame.url
        ? n.callFrame.url.replace(/^.*node_modules\//, '').replace(/^file:\/\/.*\/dist\/server\//, 'dist/')
        : '';
      const key = `${n.callFrame.functionName || '(anonymous)'}${where ? ` ${where}:${n.callFrame.lineNumber + 1}` : ''}`;
      self.set(key, (self.get(key) ?? 0) + 1);
      total++;
    }
  }
  return [...self.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, hits]) => ({ name, share: hits / Math.max(1, total) }));
}

/** prom-client's event-loop lag gauges of one instance (monitorEventLoopDelay, reset at every scrape). */
async function eventLoop(port: number) {
  // One scrape: each one resets the histogram. Its resolution is 10 ms, so the figures are 10 ms + the delay.
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then((r) => r.text());
  const get = (q: string) =>
    Number(new RegExp(`^livevote_nodejs_eventloop_lag_${q}_seconds (\\S+)$`, 'm').exec(text)?.[1]) * 1000;
  return { p50: get('p50'), p99: get('p99'), max: get('max') };
}

/** Mean of a histogram's observations between two scrapes: (sum₁ − sum₀) / (count₁ − count₀), in ms. */
async function histogramMean(port: number, name: string) {
  const [sum, count] = await Promise.all([scrape(port, `${name}_sum`), scrape(port, `${name}_count`)]);
  return { sum: sum ?? 0, count: count ?? 0 };
}

async function main() {
  const load = LOADS.find((l) => l.key === (process.env.LOADS ?? '1k'));
  if (!load) throw new Error(`LOADS: one of ${LOADS.map((l) => l.key).join(', ')}`);
  load.seconds = Number(process.env.SECONDS) || 20;
  const profile = process.env.PROFILE === '1';
  if (!existsSync(`${ROOT}dist/server/main.js`))
    throw new Error('dist/server/main.js is missing: npm run build:server');
  const log = (line: string) => console.log(line);
  const cluster = await createPgCluster(log, {
    shared_preload_libraries: 'pg_stat_statements',
    'pg_stat_statements.track': 'all',
    log_min_duration_statement: '20',
    track_io_timing: 'on',
  });
  const dir = mkdtempSync(join(tmpdir(), 'livevote-vote-path-'));
  try {
    const admin = new pg.Client({ connectionString: cluster.url('postgres') });
    await admin.connect();
    await admin.query('create database livevote');
    await admin.end();
    const url = cluster.url('livevote');
    const stmts = new pg.Client({ connectionString: url });
    await stmts.connect();
    await stmts.query('create extension pg_stat_statements');
    const floor = await fsyncFloor(cluster.dataDir);
    const commit = await commitCost(url);
    log(`fsync floor ${JSON.stringify(floor)}, one-row commit ${JSON.stringify(commit)}`);
    const logPrefix = join(dir, 'instance-');
    const before = new Map<number, { bus: { sum: number; count: number } }>();
    const after: {
      loop: { p50: number; p99: number; max: number }[];
      busMs: number;
      frameMs: number;
      writeMs: number;
      broadcasts: number;
    } = { loop: [], busMs: Number.NaN, frameMs: 0, writeMs: 0, broadcasts: 0 };
    const cost = async (t: Target) => {
      let frame = 0;
      let write = 0;
      let n = 0;
      for (const port of t.ports) {
        frame += (await scrape(port, 'livevote_broadcast_frame_seconds_total')) ?? 0;
        write += (await scrape(port, 'livevote_broadcast_write_seconds_total')) ?? 0;
        n += (await scrape(port, 'livevote_broadcasts_total')) ?? 0;
      }
      return { frame, write, n };
    };
    let cost0 = { frame: 0, write: 0, n: 0 };
    const usNow = () => Number(process.hrtime.bigint() / 1000n);
    const window: [number, number] = [0, 0];
    const result: Run = await run(
      () =>
        livevote(load.instances, url, {
          nodeArgs: ['--trace-gc', ...(profile ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : [])],
          logPrefix,
        }),
      load,
      {
        async beforeLoad(t) {
          await stmts.query('select pg_stat_statements_reset()');
          for (const port of t.ports) {
            await eventLoop(port); // resets the loop's histogram
            before.set(port, { bus: await histogramMean(port, 'livevote_bus_delay_seconds') });
          }
          cost0 = await cost(t);
          window[0] = usNow();
        },
        async afterLoad(t) {
          window[1] = usNow();
          let busSum = 0;
          let busCount = 0;
          for (const port of t.ports) {
            after.loop.push(await eventLoop(port));
            const b = await histogramMean(port, 'livevote_bus_delay_seconds');
            busSum += b.sum - (before.get(port)?.bus.sum ?? 0);
            busCount += b.count - (before.get(port)?.bus.count ?? 0);
          }
          after.busMs = busCount ? (busSum / busCount) * 1000 : Number.NaN;
          const c = await cost(t);
          after.broadcasts = c.n - cost0.n;
          after.frameMs = ((c.frame - cost0.frame) / Math.max(1, after.broadcasts)) * 1000;
          after.writeMs = ((c.write - cost0.write) / Math.max(1, after.broadcasts)) * 1000;
        },
      },
    );
    const statements = (
      await stmts.query<{ query: string; calls: string; mean: number; max: number; total: number }>(
        `select regexp_replace(query, '\\s+', ' ', 'g') as query, calls, mean_exec_time as mean,
           max_exec_time as max, total_exec_time as total
         from pg_stat_statements where query not like '%pg_stat_statements%'
         order by total_exec_time desc limit 8`,
      )
    ).rows;
    await stmts.end();
    const logs = readdirSync(dir)
      .filter((f) => f.startsWith('instance-'))
      .map((f) => join(dir, f));
    const gc = gcPauses(logs);
    const gcMs = gc.map((g) => g.ms).sort((a, b) => a - b);
    const slowLog = existsSync(`/var/log/postgresql/postgresql-15-${cluster.name}.log`)
      ? readFileSync(`/var/log/postgresql/postgresql-15-${cluster.name}.log`, 'utf8')
          .split('\n')
          .filter((l) => l.includes('duration:'))
      : [];
    const hot = profile ? profileSummary(dir, window) : [];

    const stages = ['edge', 'rules', 'commit', 'snapshot'];
    const stageRow = (q: 'p50' | 'p99') =>
      `| ${q} | ${stages.map((s) => fmt(result.stages[s]?.[q] ?? Number.NaN)).join(' | ')} | ${fmt(q === 'p50' ? result.voteP50 : result.voteP99)} | ${fmt(q === 'p50' ? result.p50 : result.p99)} |`;
    const body = `Machine: ${machine('a private PostgreSQL 15 cluster and the shared Redis on the same machine')}; load average ${result.loadAvg1.toFixed(1)} at the start, both cores ${(result.machineBusy * 100).toFixed(0)} % busy over the load. Command: \`LOADS=${load.key} SECONDS=${load.seconds}${profile ? ' PROFILE=1' : ''} npm run bench:vote-path\`: ${load.name} for ${load.seconds} s, ${result.votes} votes, compiled instances.

**The floor.** pg_test_fsync on the cluster's disk: fdatasync of one 8 kB write ${floor ? `${floor.usPerOp} µs (${Math.round(floor.opsPerSec)}/s)` : 'not measured'}; a one-row durable commit through the driver on the same cluster: p50 ${fmt(commit.p50)} ms, p99 ${fmt(commit.p99)} ms. A vote cannot be acknowledged faster than that.

Each stage of the vote request (Server-Timing, ms), the whole request at the voter, and vote → screen:

| | edge | rules | commit | snapshot | request at the voter | vote → screen |
|---|---|---|---|---|---|---|
${stageRow('p50')}
${stageRow('p99')}

- Bus (Redis) between instances: mean ${fmt(after.busMs)} ms from publish to arrival. Broadcasts: ${after.broadcasts}, building the frames ${fmt(after.frameMs, 3)} ms and writing them to ${Math.round(load.clients / load.instances)} sockets ${fmt(after.writeMs)} ms each (means).
- Event-loop delay over the load, per instance (p50 / p99 / max ms): ${after.loop.map((l) => `${fmt(l.p50)} / ${fmt(l.p99)} / ${fmt(l.max)}`).join('; ')}.
- GC pauses over the instances' lives (start included): ${gc.length}, p50 ${fmt(percentile(gcMs, 50))} ms, p99 ${fmt(percentile(gcMs, 99))} ms, max ${fmt(gcMs.at(-1) ?? Number.NaN)} ms; by kind: ${[
      ...new Set(gc.map((g) => g.kind)),
    ]
      .map((k) => {
        const of = gc.filter((g) => g.kind === k);
        return `${k} ${of.length} (max ${fmt(Math.max(...of.map((g) => g.ms)))} ms)`;
      })
      .join(', ')}; heap at most ${fmt(Math.max(0, ...gc.map((g) => g.heapMb)), 1)} MB.
- Postgres statements over ${result.votes} votes (pg_stat_statements, by total time):

| statement | calls | mean ms | max ms | total ms |
|---|---|---|---|---|
${statements.map((s) => `| \`${s.query.slice(0, 90).replaceAll('|', '\\|')}${s.query.length > 90 ? '…' : ''}\` | ${s.calls} | ${fmt(s.mean)} | ${fmt(s.max)} | ${fmt(s.total, 0)} |`).join('\n')}

- Statements slower than 20 ms in the Postgres log: ${slowLog.length}${
      slowLog.length
        ? ` (slowest: ${slowLog
            .map((l) => Number(/duration: ([\d.]+) ms/.exec(l)?.[1] ?? 0))
            .sort((a, b) => b - a)
            .slice(0, 3)
            .map((x) => `${fmt(x, 1)} ms`)
            .join(', ')})`
        : ''
    }.${
      hot.length
        ? `
- CPU profile of the instances over the load (self time, idle excluded): ${hot.map((h) => `${h.name} ${(h.share * 100).toFixed(1)} %`).join('; ')}.`
        : ''
    }`;
    console.log(body);
    if (process.env.NO_WRITE !== '1')
      writeSection(`vote path — ${new Date().toISOString().slice(0, 10)}`, body);
  } finally {
    await cluster.drop();
    console.log(`instance logs and profiles kept in ${dir}`);
  }
}

await main();
