// Idle memory of one realtime instance as the compose stack runs it (ROLE=realtime on Postgres + Redis, no
// MONGO_URL, WEB_APP=off), started from the TypeScript sources through tsx (how the image ran before the
// production build) and from the compiled bundle (how it runs now), beside the fan-out benchmark's Socket.IO
// baseline. RSS is read from /proc 5 s after /readyz answers; they alternate, so whatever else the machine does
// falls on all alike. Then what one idle WebSocket connection costs (bench/lib/conn-cost.ts): 1,000 clients, then
// 4,000 more, to one process; the slope between the two is the marginal cost, the first step over the idle process
// the "total delta" the fan-out table shows; and once per target, heap snapshots say what the JS heap holds per
// connection.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  freePort,
  TEST_ANONYMITY_KEY,
  TEST_REDIS_URL,
  testPrefix,
} from '@livevote/core/testing';
import { BASELINE_JS, buildBaseline } from './lib/baseline-build.ts';
import { type ConnectionCost, connectionCost, type Step, slopeKb, totalDeltaKb } from './lib/conn-cost.ts';
import { perUnit } from './lib/heap-census.ts';
import { COMPILED_NODE_ARGS } from './lib/instances.ts';
import { machine, median, writeSection } from './lib/results.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RUNS = Number(process.env.RUNS) || 5;
const IDLE_MS = 5_000;
/** Rounds of the per-connection measurement (each target connected 1,000 then 5,000 clients). */
const CONN_RUNS = Number(process.env.CONN_RUNS) || 3;
const STEPS = [1_000, 5_000];
/** After each step: long enough for V8 to finish the GCs the handshakes caused (its memory reducer waits ~8 s). */
const SETTLE_MS = 10_000;
const COMPILED_CMD = ['node', ...COMPILED_NODE_ARGS, 'dist/server/main.js', 'start'].join(' ');
const VARIANTS = [
  { name: 'livevote from sources (tsx)', command: 'node --import tsx server/src/main.ts start' },
  { name: 'livevote compiled', command: COMPILED_CMD },
  { name: 'baseline: Socket.IO + redis-adapter', command: 'node dist/bench/socketio-server.mjs' },
] as const;
/** The per-connection rows: the compiled server as it ships, without its V8 flag, and the baseline. */
const CONN_VARIANTS = [
  { name: 'livevote compiled', command: COMPILED_CMD },
  ...(COMPILED_NODE_ARGS.length
    ? [{ name: 'livevote compiled, default V8 flags', command: 'node dist/server/main.js start' }]
    : []),
  { name: 'baseline: Socket.IO + redis-adapter', command: 'node dist/bench/socketio-server.mjs' },
] as const;

interface Sample {
  rssMiB: number;
  readyMs: number;
  conn?: ConnectionCost;
  /** V8's young generation (new space), committed MiB, with every client connected (from heap-probe.cjs). */
  newSpaceMiB?: number;
}

const kbOf = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);
const PROBE = fileURLToPath(new URL('./lib/heap-probe.cjs', import.meta.url));
const TMP = `${tmpdir()}/livevote-idle-rss-${process.pid}`;

/** What to measure with the connections: their RSS (with the heap probe), or heap snapshots (a run of its own). */
type Measure = 'none' | 'rss' | 'census';

/** Node arguments for a measured run: the heap probe, or the snapshot signal. */
const measureArgs = (m: Measure, probeFile: string) =>
  m === 'rss'
    ? { args: ['--require', PROBE], env: { HEAP_PROBE_FILE: probeFile } }
    : m === 'census'
      ? { args: ['--heapsnapshot-signal=SIGUSR2', `--diagnostic-dir=${TMP}`], env: {} }
      : { args: [], env: {} };

async function measureConnections(
  m: Measure,
  pid: number,
  kind: 'livevote' | 'socketio',
  url: string,
  probeFile: string,
): Promise<Pick<Sample, 'conn' | 'newSpaceMiB'>> {
  if (m === 'census')
    return {
      conn: await connectionCost(pid, kind, url, [1_000, 3_000], { settleMs: 5_000, snapshotDir: TMP }),
    };
  let newSpaceMiB: number | undefined;
  const conn = await connectionCost(pid, kind, url, STEPS, {
    settleMs: SETTLE_MS,
    onStep: () => {
      const h = JSON.parse(readFileSync(probeFile, 'utf8')) as {
        spaces: Record<string, { committed: number }>;
      };
      newSpaceMiB = (h.spaces.new_space?.committed ?? 0) / 2 ** 20;
    },
  });
  return { conn, ...(newSpaceMiB === undefined ? {} : { newSpaceMiB }) };
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)));
}

async function waitReady(url: string, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode} before it was ready`);
    try {
      if ((await fetch(`${url}/readyz`)).ok) return;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  throw new Error('server not ready within 60 s');
}

/** The baseline server (bench/lib/socketio-server.ts, compiled): ready when it says so over IPC. */
async function runBaseline(idleMs: number, m: Measure): Promise<Sample> {
  const port = await freePort();
  const t0 = performance.now();
  const probeFile = `${TMP}/probe-${port}.json`;
  const extra = measureArgs(m, probeFile);
  // execArgv named: fork would otherwise pass on this process's own (tsx's loader), which the baseline would then
  // load and carry in its RSS.
  const child = fork(BASELINE_JS, [String(port), testPrefix()], {
    stdio: 'ignore',
    execArgv: extra.args,
    env: { ...process.env, ...extra.env },
  });
  try {
    await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`baseline exited with ${code}`)));
    });
    const readyMs = performance.now() - t0;
    await sleep(idleMs);
    const pid = child.pid as number;
    const kiB = kbOf(pid);
    if (m === 'none') return { rssMiB: kiB / 1024, readyMs };
    return {
      rssMiB: kiB / 1024,
      readyMs,
      ...(await measureConnections(m, pid, 'socketio', `http://127.0.0.1:${port}`, probeFile)),
    };
  } finally {
    child.kill('SIGTERM');
    await exited(child);
  }
}

/** Starts one instance, waits for readiness (+ idle), reads its RSS and stops it with SIGTERM. */
async function run(
  command: string,
  env: Record<string, string>,
  idleMs: number,
  m: Measure = 'none',
): Promise<Sample> {
  if (command.includes('socketio-server')) return runBaseline(idleMs, m);
  const port = await freePort();
  const [bin, ...args] = command.split(' ');
  if (bin !== 'node') throw new Error(`expected a node command: ${command}`);
  const probeFile = `${TMP}/probe-${port}.json`;
  const extra = measureArgs(m, probeFile);
  const t0 = performance.now();
  // process.execPath directly, not npm or a shell: the pid read below is the server itself.
  const child = spawn(process.execPath, [...extra.args, ...args], {
    cwd: ROOT,
    env: { ...env, ...extra.env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitReady(`http://127.0.0.1:${port}`, child);
    const readyMs = performance.now() - t0;
    await sleep(idleMs);
    const pid = child.pid as number;
    const kiB = kbOf(pid);
    if (!Number.isFinite(kiB)) throw new Error(`no VmRSS in /proc/${pid}/status`);
    if (m === 'none') return { rssMiB: kiB / 1024, readyMs };
    const created = await fetch(`http://127.0.0.1:${port}/api/polls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.ADMIN_TOKEN}` },
      body: JSON.stringify({ template: 'choice', title: 'idle', options: ['a', 'b'] }),
    });
    const pollId = ((await created.json()) as { poll: { id: string } }).poll.id;
    const ws = `ws://127.0.0.1:${port}/ws/votes?poll_id=${pollId}`;
    return { rssMiB: kiB / 1024, readyMs, ...(await measureConnections(m, pid, 'livevote', ws, probeFile)) };
  } finally {
    child.kill('SIGTERM');
    const code = await exited(child);
    if (code !== 0) console.warn(`${command}: exited with ${code}`);
  }
}

async function main() {
  if (!existsSync(`${ROOT}dist/server/main.js`))
    throw new Error('dist/server/main.js is missing: npm run build:server');
  await buildBaseline();
  const db = await createTestDatabase();
  // A realtime container's variables and nothing inherited: a MONGO_URL in the shell would load the driver.
  const env = {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'production',
    ROLE: 'realtime',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    ANONYMITY_KEY: TEST_ANONYMITY_KEY,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: testPrefix(),
    WEB_APP: 'off',
    SEED_DEMO: 'false',
    ADMIN_TOKEN: 'bench-admin-token-0123',
    LOG_LEVEL: 'warn',
    // Thousands of viewers from this one address, for the connection cost; the limits themselves stay loaded.
    WS_CONNECT_LIMIT_PER_MINUTE: '100000',
  };
  const samples: Sample[][] = VARIANTS.map(() => []);
  const conns: Sample[][] = CONN_VARIANTS.map(() => []);
  const censuses: (ConnectionCost | undefined)[] = [];
  const loads: number[] = [];
  mkdirSync(TMP, { recursive: true });
  const started = new Date();
  try {
    // Unmeasured: the first start migrates the database and fills tsx's transform cache.
    for (const v of VARIANTS) await run(v.command, env, 0);
    for (let round = 0; round < RUNS; round++) {
      const order = round % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
      for (const i of order) {
        const v = VARIANTS[i] as (typeof VARIANTS)[number];
        const s = await run(v.command, env, IDLE_MS);
        samples[i]?.push(s);
        console.log(
          `round ${round + 1} ${v.name}: ${s.rssMiB.toFixed(1)} MiB, ready in ${Math.round(s.readyMs)} ms`,
        );
      }
    }
    for (let round = 0; round < CONN_RUNS; round++) {
      const order = CONN_VARIANTS.map((_, i) => i);
      if (round % 2) order.reverse();
      for (const i of order) {
        const v = CONN_VARIANTS[i] as (typeof CONN_VARIANTS)[number];
        loads.push(loadavg()[0] ?? 0);
        const s = await run(v.command, env, IDLE_MS, 'rss');
        conns[i]?.push(s);
        const c = s.conn as ConnectionCost;
        const [a, b] = c.steps as [Step, Step];
        console.log(
          `connections round ${round + 1} ${v.name}: ${totalDeltaKb(c, a).toFixed(1)} KB (total delta, ${a.clients}), ${slopeKb(a, b).toFixed(1)} KB (marginal, ${a.clients}→${b.clients}), new space ${s.newSpaceMiB?.toFixed(1)} MiB`,
        );
      }
    }
    // Heap snapshots make the process's RSS balloon: runs of their own, after the RSS was read.
    // A V8 flag sizing the young generation changes no object's size: no census of its own.
    for (const v of CONN_VARIANTS)
      censuses.push(
        v.name.includes('default V8') ? undefined : (await run(v.command, env, IDLE_MS, 'census')).conn,
      );
  } finally {
    await db.drop();
    rmSync(TMP, { recursive: true, force: true });
  }

  const rss = samples.map((xs) => xs.map((s) => s.rssMiB));
  const rows = VARIANTS.map((v, i) => {
    const xs = rss[i] ?? [];
    const ready = median((samples[i] ?? []).map((s) => s.readyMs));
    return `| ${v.name} | \`${v.command}\` | ${Math.min(...xs).toFixed(1)} | ${median(xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} | ${xs.map((x) => x.toFixed(1)).join(', ')} | ${Math.round(ready)} |`;
  });
  const ratio = median(rss[1] ?? []) / median(rss[2] ?? []);
  console.log(`compiled livevote / baseline (medians): ${ratio.toFixed(2)}×`);

  /** Per connection variant: median total delta, median marginal, runs' marginals, new space, JS heap live. */
  const perConn = CONN_VARIANTS.map((v, i) => {
    const xs = conns[i] ?? [];
    const steps = xs.map((s) => s.conn as ConnectionCost);
    const total = median(steps.map((c) => totalDeltaKb(c, c.steps[0] as Step)));
    const marginals = steps.map((c) => slopeKb(c.steps[0] as Step, c.steps[1] as Step));
    const census = censuses[i];
    const [a, b] = (census?.steps ?? []) as Step[];
    const heap = a?.census && b?.census ? perUnit(a.census, b.census, b.clients - a.clients, 16) : undefined;
    return {
      v,
      total,
      marginal: median(marginals),
      marginals,
      newSpace: median(xs.map((s) => s.newSpaceMiB ?? Number.NaN)),
      heap,
    };
  });
  const lv = perConn[0];
  const base = perConn.at(-1);
  const connRatio = lv && base ? lv.marginal / base.marginal : Number.NaN;
  const totalRatio = lv && base ? lv.total / base.total : Number.NaN;
  const connRows = perConn.map(
    (p) =>
      `| ${p.v.name} | ${p.marginal.toFixed(1)} | ${p.marginals.map((x) => x.toFixed(1)).join(', ')} | ${p.total.toFixed(1)} | ${p.heap ? (p.heap.bytes / 1024).toFixed(2) : '—'} | ${p.newSpace.toFixed(1)} |`,
  );
  const heapRows = perConn.flatMap((p) =>
    p.heap
      ? [
          `- ${p.v.name}: ${p.heap.rows
            // At least one per connection (code compiled meanwhile is not the connections'), 40 B or more.
            .filter((r) => r.count >= 0.9 && r.bytes >= 40)
            .map((r) => `${r.kind.replace(/^object:/, '')} ${Math.round(r.bytes)} B (×${r.count.toFixed(1)})`)
            .join(', ')}`,
        ]
      : [],
  );
  for (const l of [...connRows, ...heapRows]) console.log(l);
  writeSection(
    `idle RSS — ${started.toISOString().slice(0, 10)}`,
    `Machine: ${machine('PostgreSQL and Redis on the same machine')}. Command: \`npm run bench:rss\` (builds the server first; ${started.toISOString().slice(11, 16)}–${new Date().toISOString().slice(11, 16)} UTC). One realtime instance (\`ROLE=realtime\`, Postgres + Redis, no \`MONGO_URL\`, \`WEB_APP=off\`, \`NODE_ENV=production\`), ${RUNS} runs each, alternating, beside the fan-out benchmark's baseline server (Socket.IO 4 + @socket.io/redis-adapter on the same Redis, compiled to JavaScript the same way and started without a loader); VmRSS from \`/proc/<pid>/status\` ${IDLE_MS / 1000} s after \`/readyz\` first answered 200 (the baseline: after it said it listens).

| run as | command | RSS MiB min | median | max | runs (MiB) | ready after (ms, median) |
|---|---|---|---|---|---|---|
${rows.join('\n')}

- compiled livevote / baseline (medians): **${ratio.toFixed(2)}×**; goal ≤ 100 MB (95.4 MiB) per instance: ${median(rss[1] ?? []) <= 95.4 ? 'met' : 'missed'}.
- A realtime instance loads neither PGlite nor the MongoDB driver (unless configured) nor the chat apps (Bolt and
  the Teams SDK load only in the \`bot\` and \`all\` roles).
- One unmeasured start of each comes first: it migrates the database and fills tsx's transform cache, so
  "ready after" is a warm start for both.

### per idle connection

${CONN_RUNS} runs per row, alternating; load average (1 min) at the start of each: ${loads.map((l) => l.toFixed(1)).join(', ')}.
Method: one process; ${STEPS[0]?.toLocaleString('en')} idle clients connect (livevote: one viewer of one poll, \`/ws/votes?poll_id=\`; the
baseline: a Socket.IO client in the poll's room), then ${((STEPS[1] ?? 0) - (STEPS[0] ?? 0)).toLocaleString('en')} more; VmRSS ${SETTLE_MS / 1000} s after each step.
*Marginal* = RSS growth from ${STEPS[0]?.toLocaleString('en')} to ${STEPS[1]?.toLocaleString('en')} clients ÷ ${((STEPS[1] ?? 0) - (STEPS[0] ?? 0)).toLocaleString('en')}: what one more idle connection costs.
*Total delta* = RSS at ${STEPS[0]?.toLocaleString('en')} clients minus the idle process's, ÷ ${STEPS[0]?.toLocaleString('en')} (the fan-out table's method): it also holds
fixed costs — the V8 young generation growing under the burst of handshakes, garbage not yet collected — spread over
the clients, so it falls as the count grows. *JS heap, live*: heap snapshots (each taken after a full GC) at 1,000
and 3,000 clients, a run of its own per row; the difference in bytes ÷ 2,000. *New space*: V8's young generation,
committed, with ${STEPS[1]?.toLocaleString('en')} clients connected.

| server | KB per idle connection, marginal (median) | runs | total delta at ${STEPS[0]?.toLocaleString('en')} (KB, median) | JS heap, live (KB per connection) | new space (MiB) |
|---|---|---|---|---|---|
${connRows.join('\n')}

- livevote / baseline: marginal **${connRatio.toFixed(2)}×**, total delta ${totalRatio.toFixed(2)}×. Goal ≤ 8 KB per idle connection: ${lv ? `${lv.marginal.toFixed(1)} KB marginal, ${lv.marginal <= 8 ? 'met' : 'missed'}; ${lv.total.toFixed(1)} KB total delta at ${STEPS[0]?.toLocaleString('en')}, ${lv.total <= 8 ? 'met' : 'missed'}` : '—'}.
- ${COMPILED_NODE_ARGS.length ? `\`${COMPILED_NODE_ARGS.join(' ')}\` (how the image and the benchmarks start the compiled server) caps each of V8's two young-generation semi-spaces at ${/=(\d+)/.exec(COMPILED_NODE_ARGS.join(' '))?.[1] ?? '?'} MiB (Node's default lets them grow to 16 MiB under a burst of handshakes, and an idle server gives little back).` : 'No V8 flags.'}
- What the JS heap holds per connection, largest first (from the snapshots; *system / Context* is a closure's scope,
  *array* a backing store, *synthetic* native objects Node reports into the snapshot):
${heapRows.map((r) => `  ${r}`).join('\n')}`,
  );
}

await main();
