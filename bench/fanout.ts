// Vote → screen: latency over every (vote, client) pair, delivery within 1 s, frames per update, the vote request's
// own latency and server RSS per idle connection, for livevote (compiled realtime processes on Postgres + Redis)
// and, in the same run, a Socket.IO 4 + @socket.io/redis-adapter server implementing the same live poll. Servers,
// client processes and the voter are separate processes; the voter sends open-loop at a fixed rate, identical for
// both targets (bench/lib/fanout-run.ts).
//
// The machine is shared, so every load runs ROUNDS times per target, alternating (livevote, baseline, livevote, …),
// and the table gives medians with the 1-minute load average beside each row. A run whose client process used most
// of a core (client-pool.ts) measured the client: it is left out of the medians and the row says so.
import { appendFileSync, existsSync } from 'node:fs';
import pg from 'pg';
import { LOADS, type Load, livevote, livevoteEnv, type Run, run, socketio } from './lib/fanout-run.ts';
import { COMPILED, ROOT } from './lib/instances.ts';
import { createPgCluster } from './lib/pg-cluster.ts';
import { machine, median, writeSection } from './lib/results.ts';

const ROUNDS = Number(process.env.ROUNDS) || 3;

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '∞');
const ratio = (a: number, b: number) =>
  Number.isFinite(a) && Number.isFinite(b) && b > 0 ? `${(a / b).toFixed(2)}×` : '—';

interface Summary {
  load: Load;
  target: string;
  runs: Run[];
  counted: Run[];
}

const med = (runs: Run[], f: (r: Run) => number) => (runs.length ? median(runs.map(f)) : Number.NaN);

function row(s: Summary, base?: Summary): string {
  const c = s.counted;
  const refused = s.runs.length - c.length;
  const loads = s.runs.map((r) => r.loadAvg1.toFixed(1)).join(', ');
  const cpuMax = Math.max(...s.runs.flatMap((r) => r.clientCpu));
  if (c.length === 0)
    return `| ${s.load.name} | ${s.target} | 0 of ${s.runs.length} (client saturated: ${(cpuMax * 100).toFixed(0)} % of a core) | ${loads} | — | — | — | — | — | — | — | — | — | — |`;
  const p50 = med(c, (r) => r.p50);
  const p99 = med(c, (r) => r.p99);
  const b50 = base ? med(base.counted, (r) => r.p50) : Number.NaN;
  const b99 = base ? med(base.counted, (r) => r.p99) : Number.NaN;
  return `| ${s.load.name} | ${s.target} | ${c.length} of ${s.runs.length}${refused ? ` (${refused} refused: client saturated)` : ''} | ${loads} | ${fmt(p50)} / ${fmt(p99)} | ${base ? `${ratio(p50, b50)} / ${ratio(p99, b99)}` : '—'} | ${fmt(med(c, (r) => r.within1s) * 100)} % | ${fmt(med(c, (r) => r.voteP50))} / ${fmt(med(c, (r) => r.voteP99))} | ${med(c, (r) => r.framesPerUpdate).toFixed(2)} | ${fmt(med(c, (r) => r.kbPerConnMarginal))} / ${fmt(med(c, (r) => r.kbPerConn))} | ${fmt(
    med(c, (r) => r.serverCpuPct),
    0,
  )} % | ${fmt(med(c, (r) => r.machineBusy) * 100, 0)} % | ${(Math.max(...c.flatMap((r) => r.clientCpu)) * 100).toFixed(0)} % (${c[0]?.clientCpu.length} proc) | ${fmt(med(c, (r) => Math.max(...r.clientEldP99)))} |`;
}

async function main() {
  if (!existsSync(`${ROOT}dist/server/main.js`))
    throw new Error('dist/server/main.js is missing: npm run build:server');
  // A Postgres cluster of its own, as a deployment has: on this shared machine the common cluster's WAL also
  // carries every other engineer's test databases, and its commits queue behind theirs.
  const cluster = await createPgCluster((line) => console.log(line));
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  await admin.query('create database livevote');
  await admin.end();
  const db = { url: cluster.url('livevote') };
  // Only some loads, printed, RESULTS.md untouched (also with NO_BASELINE=1 and LIVEVOTE_ENV=K=V,… for an A/B): `npm run bench:fanout -- <words>` (the loads whose name
  // contains them) or LOADS=burst,1k (keys: floor, 1k, 2k, burst, 10k; in the order of the table).
  // BENCH_OUT=<file> also appends every run's figures to that file, one JSON object a line. ROUNDS=n (default 3).
  // NODE_ARGS="--flag …" adds Node/V8 flags to livevote's instances (to try a flag against the same baseline).
  const nodeArgs = process.env.NODE_ARGS?.split(' ').filter(Boolean);
  const only = process.argv[2];
  const keys = process.env.LOADS?.split(',').map((k) => k.trim());
  const unknown = keys?.filter((k) => !LOADS.some((l) => l.key === k)) ?? [];
  if (unknown.length)
    throw new Error(`LOADS: unknown ${unknown.join(', ')} (${LOADS.map((l) => l.key).join(', ')})`);
  const selected = LOADS.filter((l) => (!only || l.name.includes(only)) && (!keys || keys.includes(l.key)));
  const summaries: [Summary, Summary][] = [];
  const started = new Date();
  try {
    for (const load of selected) {
      const lv: Summary = { load, target: 'livevote', runs: [], counted: [] };
      const sio: Summary = { load, target: 'Socket.IO + redis-adapter', runs: [], counted: [] };
      for (let round = 0; round < ROUNDS; round++) {
        const targets = [
          [
            lv,
            () => livevote(load.instances, db.url, { env: livevoteEnv(), ...(nodeArgs ? { nodeArgs } : {}) }),
          ],
          [sio, () => socketio(load.instances)],
        ] as const;
        // NO_BASELINE=1: livevote alone (an A/B of a livevote setting between two invocations; printed only).
        for (const [s, make] of process.env.NO_BASELINE ? targets.slice(0, 1) : targets) {
          const r = await run(make, load);
          s.runs.push(r);
          if (!r.saturated) s.counted.push(r);
          console.log(
            `${load.key} round ${round + 1} ${s.target}: p50 ${fmt(r.p50)} p99 ${fmt(r.p99)} ms, vote ${fmt(r.voteP50)}/${fmt(r.voteP99)} ms, frames/update ${r.framesPerUpdate.toFixed(2)}, client cpu ${r.clientCpu.map((c) => `${(c * 100).toFixed(0)}%`).join(' ')}, load ${r.loadAvg1.toFixed(1)}${r.saturated ? ' REFUSED (client saturated)' : ''}`,
          );
          if (process.env.BENCH_OUT)
            appendFileSync(
              process.env.BENCH_OUT,
              `${JSON.stringify({ at: new Date().toISOString(), ...r })}\n`,
            );
        }
      }
      summaries.push([lv, sio]);
    }
  } finally {
    await cluster.drop();
  }
  // With NO_BASELINE the baseline has no runs: no row, no ratio.
  const rows = summaries.flatMap(([lv, sio]) => (sio.runs.length ? [row(lv, sio), row(sio)] : [row(lv)]));
  const stageRows = summaries.flatMap(([lv]) => {
    const names = ['edge', 'rules', 'commit', 'snapshot'];
    const c = lv.counted;
    if (!c.length) return [];
    const cell = (n: string) =>
      `${fmt(
        med(c, (r) => r.stages[n]?.p50 ?? Number.NaN),
        2,
      )} / ${fmt(
        med(c, (r) => r.stages[n]?.p99 ?? Number.NaN),
        2,
      )}`;
    return [
      `| ${lv.load.name} | ${names.map(cell).join(' | ')} | ${fmt(
        med(c, (r) => r.voteP50),
        2,
      )} / ${fmt(
        med(c, (r) => r.voteP99),
        2,
      )} |`,
    ];
  });
  const busNotes = summaries.flatMap(([lv]) => {
    const r = lv.counted.at(-1) ?? lv.runs.at(-1);
    const counts = r?.busPublishes.filter((n): n is number => n !== null) ?? [];
    return counts.length && r
      ? [
          `${lv.load.name}: ${counts.join(' + ')} for ${r.votes} votes (${(counts.reduce((a, b) => a + b, 0) / r.votes).toFixed(3)} per vote)`,
        ]
      : [];
  });
  const idle = ['livevote', 'Socket.IO + redis-adapter'].map((target) => {
    const all = summaries.flatMap((pair) => pair.filter((s) => s.target === target).flatMap((s) => s.runs));
    return `${target}: ${fmt(median(all.flatMap((r) => r.idleRssMiB)))} MiB`;
  });
  const table = `| load | target | runs counted | load avg (1 min) at each run's start | p50 / p99 ms | livevote ÷ baseline (p50 / p99) | pairs within 1 s | vote request p50 / p99 ms | frames per update | server RSS per idle connection, KB: marginal / total delta | server CPU | machine busy | client CPU, busiest process | client event-loop p99 ms |
|---|---|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}`;
  if (only || keys || process.env.NO_BASELINE) {
    console.log(
      `${table}\n\nstages (p50 / p99 ms):\n${stageRows.join('\n')}\n${busNotes.join('\n')}\n${idle.join('\n')}`,
    );
    return;
  }
  writeSection(
    `fan-out — ${started.toISOString().slice(0, 10)}`,
    `Machine: ${machine('a private PostgreSQL 15 cluster and the shared Redis on the same machine, which other engineers’ test runs share')}. Command: \`npm run bench:fanout\`
(${started.toISOString().slice(11, 16)}–${new Date().toISOString().slice(11, 16)} UTC). ${ROUNDS} runs per load and target, alternating
livevote and the baseline; medians of the counted runs. livevote runs the compiled bundle (\`node ${COMPILED.join(' ')}\`).

${table}

- Latency: for every vote v and every client, the time from sending v to that client's first frame showing version
  ≥ v (one coalesced snapshot can cover several votes; a skipped one counts as late, not as missing).
- Clients: raw WebSocket clients in ${'`'}CLIENT_PROCS${'`'} processes (one per 1,000 clients, at most 4); both targets are read by the same
  code (the version is found in the frame's bytes; Socket.IO's Engine.IO handshake and pings are answered by hand).
  A run whose busiest client process used ≥ 85 % of a core is refused: it measured the client.
- *frames per update*: WebSocket messages a client received per snapshot it received.
- *machine busy*: both cores over the load window, every process included (Postgres, Redis, the other engineers').
- RSS per idle connection, two ways. *Marginal*: half the clients connect, then the other half; the servers'
  summed VmRSS growth over the second half (2 s after each) ÷ its clients — what one more connection costs.
  *Total delta*: the summed VmRSS after all connected minus before ÷ the clients; it also carries fixed costs (V8's
  young generation growing under the handshakes, garbage not yet collected) spread over the clients, so it falls
  as the count grows. One process, 1,000 → 5,000 clients, 10 s settling: \`npm run bench:rss\` (_idle RSS_).
  Idle RSS per instance right after start (median): ${idle.join('; ')}.
- livevote's bus publishes (per instance): ${busNotes.join('; ')}.

Each stage of livevote's vote request, from its \`Server-Timing\` header (median of the runs' p50 / p99, ms):

| load | edge | rules | commit | snapshot | whole request at the voter |
|---|---|---|---|---|---|
${stageRows.join('\n')}`,
  );
}

await main();
