// Idle memory of one realtime instance as the compose stack runs it (ROLE=realtime on Postgres + Redis, no
// MONGO_URL, WEB_APP=off), started from the TypeScript sources through tsx (how the image ran before the
// production build) and from the compiled bundle (how it runs now), beside the fan-out benchmark's Socket.IO
// baseline. RSS is read from /proc 5 s after /readyz answers; they alternate, so whatever else the machine does
// falls on all alike.
import { type ChildProcess, fork, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
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
import { startClientPool } from './lib/client-pool.ts';
import { machine, median, writeSection } from './lib/results.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const RUNS = 5;
const IDLE_MS = 5_000;
const VARIANTS = [
  { name: 'livevote from sources (tsx)', command: 'node --import tsx server/src/main.ts start' },
  { name: 'livevote compiled', command: 'node dist/server/main.js start' },
  { name: 'baseline: Socket.IO + redis-adapter', command: 'node dist/bench/socketio-server.mjs' },
] as const;

interface Sample {
  rssMiB: number;
  readyMs: number;
  /** KB of RSS per idle WebSocket connection: the first 1,000, and each of the next 2,000 (the marginal cost). */
  perConnKb?: { first: number; marginal: number };
}

const kbOf = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1]);

/**
 * Connects 1,000 idle clients, then 2,000 more (the fan-out benchmark's client processes), reading the server's RSS
 * 3 s after each step. The first step also pays for the heap's young generation growing once, whatever the count;
 * the second step's cost per connection is what one more idle viewer costs.
 */
async function connectionCost(pid: number, kind: 'livevote' | 'socketio', url: string) {
  const r0 = kbOf(pid);
  const first = await startClientPool(kind, [url], 1_000, 1);
  await sleep(3_000);
  const r1 = kbOf(pid);
  const more = await startClientPool(kind, [url], 2_000, 2);
  await sleep(3_000);
  const r3 = kbOf(pid);
  first.kill();
  more.kill();
  return { first: (r1 - r0) / 1_000, marginal: (r3 - r1) / 2_000 };
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
async function runBaseline(idleMs: number, connections: boolean): Promise<Sample> {
  const port = await freePort();
  const t0 = performance.now();
  const child = fork(BASELINE_JS, [String(port), testPrefix()], { stdio: 'ignore' });
  try {
    await new Promise((resolve, reject) => {
      child.once('message', resolve);
      child.once('exit', (code) => reject(new Error(`baseline exited with ${code}`)));
    });
    const readyMs = performance.now() - t0;
    await sleep(idleMs);
    const pid = child.pid as number;
    const kiB = kbOf(pid);
    if (!connections) return { rssMiB: kiB / 1024, readyMs };
    return {
      rssMiB: kiB / 1024,
      readyMs,
      perConnKb: await connectionCost(pid, 'socketio', `http://127.0.0.1:${port}`),
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
  connections = false,
): Promise<Sample> {
  if (command.includes('socketio-server')) return runBaseline(idleMs, connections);
  const port = await freePort();
  const [bin, ...args] = command.split(' ');
  if (bin !== 'node') throw new Error(`expected a node command: ${command}`);
  const t0 = performance.now();
  // process.execPath directly, not npm or a shell: the pid read below is the server itself.
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...env, PORT: String(port) },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  try {
    await waitReady(`http://127.0.0.1:${port}`, child);
    const readyMs = performance.now() - t0;
    await sleep(idleMs);
    const pid = child.pid as number;
    const kiB = kbOf(pid);
    if (!Number.isFinite(kiB)) throw new Error(`no VmRSS in /proc/${pid}/status`);
    if (!connections) return { rssMiB: kiB / 1024, readyMs };
    const created = await fetch(`http://127.0.0.1:${port}/api/polls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${env.ADMIN_TOKEN}` },
      body: JSON.stringify({ template: 'choice', title: 'idle', options: ['a', 'b'] }),
    });
    const pollId = ((await created.json()) as { poll: { id: string } }).poll.id;
    const ws = `ws://127.0.0.1:${port}/ws/votes?poll_id=${pollId}`;
    return { rssMiB: kiB / 1024, readyMs, perConnKb: await connectionCost(pid, 'livevote', ws) };
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
  try {
    // Unmeasured: the first start migrates the database and fills tsx's transform cache.
    for (const v of VARIANTS) await run(v.command, env, 0);
    for (let round = 0; round < RUNS; round++) {
      const order = round % 2 === 0 ? [0, 1, 2] : [2, 1, 0];
      for (const i of order) {
        const v = VARIANTS[i] as (typeof VARIANTS)[number];
        const s = await run(v.command, env, IDLE_MS, !v.command.includes('tsx'));
        samples[i]?.push(s);
        console.log(
          `round ${round + 1} ${v.name}: ${s.rssMiB.toFixed(1)} MiB, ready in ${Math.round(s.readyMs)} ms${s.perConnKb ? `, per connection ${s.perConnKb.first.toFixed(1)} KB (first 1,000), ${s.perConnKb.marginal.toFixed(1)} KB (next 2,000)` : ''}`,
        );
      }
    }
  } finally {
    await db.drop();
  }

  const rss = samples.map((xs) => xs.map((s) => s.rssMiB));
  const rows = VARIANTS.map((v, i) => {
    const xs = rss[i] ?? [];
    const ready = median((samples[i] ?? []).map((s) => s.readyMs));
    const conn = (samples[i] ?? []).flatMap((s) => (s.perConnKb ? [s.perConnKb] : []));
    const perConn = conn.length
      ? `${median(conn.map((c) => c.first)).toFixed(1)} / ${median(conn.map((c) => c.marginal)).toFixed(1)}`
      : '—';
    return `| ${v.name} | \`${v.command}\` | ${Math.min(...xs).toFixed(1)} | ${median(xs).toFixed(1)} | ${Math.max(...xs).toFixed(1)} | ${xs.map((x) => x.toFixed(1)).join(', ')} | ${Math.round(ready)} | ${perConn} |`;
  });
  const ratio = median(rss[1] ?? []) / median(rss[2] ?? []);
  console.log(`compiled livevote / baseline (medians): ${ratio.toFixed(2)}×`);
  writeSection(
    `idle RSS — ${new Date().toISOString().slice(0, 10)}`,
    `Machine: ${machine('PostgreSQL and Redis on the same machine')}. Command: \`npm run bench:rss\` (builds the server first). One realtime instance (\`ROLE=realtime\`, Postgres + Redis, no \`MONGO_URL\`, \`WEB_APP=off\`, \`NODE_ENV=production\`), ${RUNS} runs each, alternating, beside the fan-out benchmark's baseline server (Socket.IO 4 + @socket.io/redis-adapter on the same Redis, compiled to JavaScript the same way); VmRSS from \`/proc/<pid>/status\` ${IDLE_MS / 1000} s after \`/readyz\` first answered 200 (the baseline: after it said it listens).

| run as | command | RSS MiB min | median | max | runs (MiB) | ready after (ms, median) | KB per idle connection: first 1,000 / next 2,000 (median) |
|---|---|---|---|---|---|---|---|
${rows.join('\n')}

- compiled livevote / baseline (medians): **${ratio.toFixed(2)}×**; goal ≤ 100 MB (95.4 MiB) per instance: ${median(rss[1] ?? []) <= 95.4 ? 'met' : 'missed'}.
- Per idle connection: one viewer of one poll (livevote: \`/ws/votes?poll_id=\`; the baseline: a Socket.IO client in
  the poll's room), RSS 3 s after 1,000 clients connected, then after 2,000 more. The first step includes the V8
  heap's young generation growing once (a fixed few MiB); the second is the marginal cost. Goal ≤ 8 KB per idle
  connection: ${(() => {
    const conn = (samples[1] ?? []).flatMap((s) => (s.perConnKb ? [s.perConnKb.marginal] : []));
    const m = median(conn);
    return `${m.toFixed(1)} KB marginal, ${m <= 8 ? 'met' : 'missed'}`;
  })()}.
- A realtime instance loads neither PGlite nor the MongoDB driver (unless configured) nor the chat apps (Bolt and
  the Teams SDK load only in the \`bot\` and \`all\` roles).
- One unmeasured start of each comes first: it migrates the database and fills tsx's transform cache, so
  "ready after" is a warm start for both.`,
  );
}

await main();
