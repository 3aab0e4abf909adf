// The fan-out benchmark's moving parts, shared by bench/fanout.ts and bench/vote-path.ts: the two targets (livevote
// realtime processes, compiled; the Socket.IO + redis-adapter baseline), the loads, and one run of a load against a
// target: clients connected in their own processes, an open-loop voter, and every figure of the run.
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import { freePort, TEST_ANONYMITY_KEY, testPrefix } from '@livevote/core/testing';
import { buildBaseline } from './baseline-build.ts';
import { type PoolStats, startClientPool } from './client-pool.ts';
import { BUNDLE, COMPILED_NODE_ARGS, spawnInstance, waitReady } from './instances.ts';
import { percentile } from './results.ts';

export const ADMIN = 'bench-admin-token-0123456789';
const now = () => performance.timeOrigin + performance.now();

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
};
/** The whole machine's busy and total jiffies (first line of /proc/stat). */
const machineTicks = () => {
  const f = (readFileSync('/proc/stat', 'utf8').split('\n')[0] ?? '')
    .trim()
    .split(/\s+/)
    .slice(1)
    .map(Number);
  const total = f.reduce((a, b) => a + b, 0);
  const idle = (f[3] ?? 0) + (f[4] ?? 0);
  return { busy: total - idle, total };
};

export interface Target {
  name: string;
  kind: 'livevote' | 'socketio';
  procs: ChildProcess[];
  ports: number[];
  urls: string[];
  vote(i: number): { path: string; body?: string; port: number };
  /** Per instance: snapshots it published on the bus so far (livevote's /metrics, null where not counted). */
  busPublishes?(): Promise<(number | null)[]>;
  stop(): Promise<void>;
}

/** One counter from an instance's Prometheus exposition; null when the instance doesn't expose it. */
export async function scrape(port: number, metric: string): Promise<number | null> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const m = new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

export interface LivevoteOptions {
  /** Node arguments before the bundle's (profiling: --cpu-prof, --trace-gc). */
  nodeArgs?: string[];
  /** Appends each instance's stdout and stderr to `<logPrefix><n>.log`. */
  logPrefix?: string;
  /** More settings for the instances (an A/B of one setting: LIVEVOTE_ENV=FANOUT_SHARE_PERCENT=25). */
  env?: Record<string, string>;
}

/** LIVEVOTE_ENV=K=V,K2=V2 from the bench's own environment, for livevote's instances. */
export const livevoteEnv = (): Record<string, string> =>
  Object.fromEntries(
    (process.env.LIVEVOTE_ENV ?? '')
      .split(',')
      .filter((kv) => kv.includes('='))
      .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
  );

export async function livevote(instances: number, dbUrl: string, o: LivevoteOptions = {}): Promise<Target> {
  const prefix = testPrefix();
  const ports = await Promise.all(Array.from({ length: instances }, freePort));
  const procs = ports.map((port, n) =>
    spawnInstance({
      port,
      // The bundle, as the image runs it; flags given here come after the image's, so they win.
      args: [...COMPILED_NODE_ARGS, ...(o.nodeArgs ?? []), ...BUNDLE],
      ...(o.logPrefix ? { logFile: `${o.logPrefix}${n}.log` } : {}),
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        NODE_ENV: 'production',
        HOST: '127.0.0.1',
        ROLE: 'realtime',
        DATABASE_URL: dbUrl,
        ANONYMITY_KEY: TEST_ANONYMITY_KEY,
        REDIS_URL: 'redis://127.0.0.1:6379',
        REDIS_PREFIX: prefix,
        ADMIN_TOKEN: ADMIN,
        LOG_LEVEL: 'error',
        WEB_APP: 'off', // API and WebSocket only: no web build racing other runs
        ABUSE_LIMITS: 'off', // thousands of sockets from this one address; Socket.IO's side has no limits either
        ...o.env,
      },
    }),
  );
  await Promise.all(procs.map((p) => waitReady(p)));
  const first = procs[0]?.port as number;
  const res = await fetch(`http://127.0.0.1:${first}/api/polls`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
    body: JSON.stringify({
      template: 'lunch',
      places: ['A', 'B', 'C'].map((name) => ({ name, menus: [{ name: `${name}1` }] })),
    }),
  });
  const pollId = ((await res.json()) as { poll: { id: string } }).poll.id;
  let voter = 0;
  return {
    name: 'livevote',
    kind: 'livevote',
    procs: procs.map((p) => p.child),
    ports,
    urls: procs.map((p) => `ws://127.0.0.1:${p.port}/ws/votes?poll_id=${pollId}`),
    vote: (i) => ({
      port: procs[i % procs.length]?.port as number,
      path: `/api/polls/${pollId}/votes?emp_no=${++voter + 1_000_000}`,
      body: JSON.stringify({ question_id: 'place', option_ids: [`p${(i % 3) + 1}`] }),
    }),
    busPublishes: () => Promise.all(procs.map((p) => scrape(p.port, 'livevote_bus_publishes_total'))),
    stop: async () => {
      // SIGTERM: the servers drain and exit, writing their CPU profiles when asked to.
      await Promise.all(
        procs.map(
          (p) =>
            new Promise<void>((resolve) => {
              if (p.child.exitCode !== null) return resolve();
              const kill = setTimeout(() => p.child.kill('SIGKILL'), 10_000);
              p.child.once('exit', () => {
                clearTimeout(kill);
                resolve();
              });
              p.child.kill('SIGTERM');
            }),
        ),
      );
    },
  };
}

export async function socketio(instances: number): Promise<Target> {
  const prefix = testPrefix();
  const ports = await Promise.all(Array.from({ length: instances }, freePort));
  const js = await buildBaseline(); // plain JavaScript, as livevote's bundle
  // execArgv named: fork would otherwise hand down this process's (tsx's loader), which the baseline would load.
  const procs = ports.map((port) => fork(js, [String(port), prefix], { stdio: 'ignore', execArgv: [] }));
  await Promise.all(procs.map((p) => new Promise((r) => p.once('message', r))));
  return {
    name: 'Socket.IO + redis-adapter',
    kind: 'socketio',
    procs,
    ports,
    urls: ports.map((p) => `http://127.0.0.1:${p}`),
    vote: (i) => ({ port: ports[i % ports.length] as number, path: `/vote?option=p${(i % 3) + 1}` }),
    stop: async () => {
      for (const p of procs) p.kill('SIGKILL');
    },
  };
}

export interface Load {
  name: string;
  clients: number;
  rate: number;
  seconds: number;
  instances: number;
  /** Short name for LOADS=… */
  key: string;
}

export interface Run extends PoolStats {
  target: string;
  load: string;
  loadAvg1: number;
  /** Share of both cores busy over the window (every process on the machine). */
  machineBusy: number;
  votes: number;
  failed: number;
  voteP50: number;
  voteP99: number;
  /** Server-Timing stages of livevote's answers: median and p99 per stage, ms. */
  stages: Record<string, { p50: number; p99: number }>;
  busPublishes: (number | null)[];
  idleRssMiB: number[];
  /** Summed RSS growth ÷ clients, from the idle servers (fixed costs included: falls as the count grows). */
  kbPerConn: number;
  /** Summed RSS growth over the second half of the clients ÷ their number: what one more idle connection costs. */
  kbPerConnMarginal: number;
  serverCpuPct: number;
  voterCpu: number;
}

export function parseServerTiming(header: string | undefined, into: Map<string, number[]>): void {
  for (const part of header?.split(',') ?? []) {
    const m = /^\s*(\w+);dur=([\d.]+)/.exec(part);
    if (!m) continue;
    const list = into.get(m[1] as string) ?? [];
    list.push(Number(m[2]));
    into.set(m[1] as string, list);
  }
}

export interface RunHooks {
  /** Right before the first vote (clients connected and settled). */
  beforeLoad?(target: Target): Promise<void>;
  /** Right after the last vote was answered, before the clients report. */
  afterLoad?(target: Target): Promise<void>;
}

export async function run(make: () => Promise<Target>, load: Load, hooks: RunHooks = {}): Promise<Run> {
  const target = await make();
  const pids = target.procs.map((p) => p.pid as number);
  const idleRssMiB = pids.map((p) => rssKb(p) / 1024);
  const rss = () => pids.reduce((a, p) => a + rssKb(p), 0);
  const settle = () => new Promise((r) => setTimeout(r, 2_000));
  const rssBefore = rss();
  // Half the clients, then the rest: the RSS growth over the second half is the marginal cost of a connection,
  // without the fixed costs the first handshakes bring (the V8 young generation growing, heap slack).
  let half = { clients: 0, kb: Number.NaN };
  const clients = await startClientPool(target.kind, target.urls, load.clients, undefined, async (n) => {
    await settle();
    half = { clients: n, kb: rss() };
  });
  try {
    await settle(); // then measure idle connections
    const rssAfter = rss();
    const loadAvg1 = loadavg()[0] ?? 0;
    const cpu0 = pids.reduce((a, p) => a + cpuTicks(p), 0);
    const m0 = machineTicks();
    const voterCpu0 = process.cpuUsage();
    const bus0 = (await target.busPublishes?.()) ?? [];
    await hooks.beforeLoad?.(target);
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const total = load.rate * load.seconds;
    const latencies: number[] = [];
    const stages = new Map<string, number[]>();
    clients.start();
    const t0 = now();
    let failed = 0;
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / load.rate;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const v = target.vote(i);
      const sent = now();
      clients.sent(i + 1, sent);
      inflight.push(
        new Promise<void>((resolve) => {
          const req = http.request(
            {
              host: '127.0.0.1',
              port: v.port,
              method: 'POST',
              path: v.path,
              agent,
              // With a Content-Length (as browsers and chat platforms send) the body leaves in the same segment
              // as the headers; chunked, its last chunk waited out Nagle + delayed ACK (~40 ms) on every vote.
              headers: v.body
                ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(v.body) }
                : {},
            },
            (res) => {
              if (res.statusCode !== 200) failed++;
              parseServerTiming(res.headers['server-timing'] as string | undefined, stages);
              res.resume();
              res.on('end', () => {
                latencies.push(now() - sent);
                resolve();
              });
            },
          );
          req.on('error', () => {
            failed++;
            resolve();
          });
          req.end(v.body);
        }),
      );
    }
    await Promise.all(inflight);
    const sendSeconds = (now() - t0) / 1000;
    const cpu1 = pids.reduce((a, p) => a + cpuTicks(p), 0);
    const m1 = machineTicks();
    const voterCpu = process.cpuUsage(voterCpu0);
    await hooks.afterLoad?.(target);
    const stats = await clients.finish(total);
    agent.destroy();
    // Published during the load: the counter at its end minus at its start (poll creation publishes too).
    const busPublishes = ((await target.busPublishes?.()) ?? []).map((n, i) => {
      const before = bus0[i];
      return n === null || before === null || before === undefined ? null : n - before;
    });
    latencies.sort((a, b) => a - b);
    const stageStats: Run['stages'] = {};
    for (const [stage, list] of stages) {
      list.sort((a, b) => a - b);
      stageStats[stage] = { p50: percentile(list, 50), p99: percentile(list, 99) };
    }
    return {
      ...stats,
      target: target.name,
      load: load.key,
      loadAvg1,
      machineBusy: (m1.busy - m0.busy) / Math.max(1, m1.total - m0.total),
      votes: total,
      failed,
      voteP50: percentile(latencies, 50),
      voteP99: percentile(latencies, 99),
      stages: stageStats,
      busPublishes,
      idleRssMiB,
      kbPerConn: (rssAfter - rssBefore) / load.clients,
      kbPerConnMarginal: (rssAfter - half.kb) / (load.clients - half.clients),
      serverCpuPct: ((cpu1 - cpu0) / 100 / sendSeconds) * 100,
      voterCpu: (voterCpu.user + voterCpu.system) / 1e6 / sendSeconds,
    };
  } finally {
    clients.kill();
    await target.stop();
  }
}

export const LOADS: Load[] = [
  // The floor: one client per instance, so neither the servers nor the measuring processes are busy.
  {
    key: 'floor',
    name: '2 clients (1 per instance), 20 votes/s',
    clients: 2,
    rate: 20,
    seconds: 10,
    instances: 2,
  },
  { key: '1k', name: '1,000 clients, 20 votes/s', clients: 1_000, rate: 20, seconds: 10, instances: 2 },
  { key: '2k', name: '2,000 clients, 20 votes/s', clients: 2_000, rate: 20, seconds: 10, instances: 2 },
  {
    key: 'burst',
    name: 'burst: 2,000 clients, 200 votes/s',
    clients: 2_000,
    rate: 200,
    seconds: 5,
    instances: 2,
  },
  {
    key: '10k',
    name: '10,000 clients over 3 instances, 20 votes/s',
    clients: 10_000,
    rate: 20,
    seconds: 10,
    instances: 3,
  },
];
