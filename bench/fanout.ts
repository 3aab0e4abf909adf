// Vote → screen: latency over every (vote, client) pair, delivery within 1 s, frames/s and server RSS per idle
// connection, for livevote (realtime processes on Postgres + Redis) and, in the same run, a Socket.IO 4 +
// @socket.io/redis-adapter server implementing the same live poll. Servers, clients and the voter are separate
// processes; the voter sends open-loop at a fixed rate, identical for both targets.
import { type ChildProcess, fork } from 'node:child_process';
import { appendFileSync, readFileSync } from 'node:fs';
import http from 'node:http';
import { createTestDatabase, freePort, TEST_ANONYMITY_KEY, testPrefix } from '@livevote/core/testing';
import { spawnInstance, waitReady } from './lib/instances.ts';
import { machine, writeSection } from './lib/results.ts';

const ADMIN = 'bench-admin-token-0123456789';
const now = () => performance.timeOrigin + performance.now();

const rssKb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
const cpuTicks = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
};

interface Target {
  name: string;
  procs: ChildProcess[];
  urls: string[];
  vote(i: number): { path: string; body?: string; port: number };
  /** Per instance: snapshots it published on the bus so far (livevote's /metrics, null where not counted). */
  busPublishes?(): Promise<(number | null)[]>;
  stop(): Promise<void>;
}

/** One counter from an instance's Prometheus exposition; null when the instance doesn't expose it. */
async function scrape(port: number, metric: string): Promise<number | null> {
  const text = await fetch(`http://127.0.0.1:${port}/metrics`).then(
    (r) => (r.ok ? r.text() : ''),
    () => '',
  );
  const m = new RegExp(`^${metric}(?:\\{[^}]*\\})? (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : null;
}

async function livevote(instances: number, dbUrl: string): Promise<Target> {
  const prefix = testPrefix();
  const ports = await Promise.all(Array.from({ length: instances }, freePort));
  const procs = ports.map((port) =>
    spawnInstance({
      port,
      env: {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
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
    procs: procs.map((p) => p.child),
    urls: procs.map((p) => `ws://127.0.0.1:${p.port}/ws/votes?poll_id=${pollId}`),
    vote: (i) => ({
      port: procs[i % procs.length]?.port as number,
      path: `/api/polls/${pollId}/votes?emp_no=${++voter + 1_000_000}`,
      body: JSON.stringify({ question_id: 'place', option_ids: [`p${(i % 3) + 1}`] }),
    }),
    busPublishes: () => Promise.all(procs.map((p) => scrape(p.port, 'livevote_bus_publishes_total'))),
    stop: async () => {
      for (const p of procs) p.child.kill('SIGKILL');
    },
  };
}

async function socketio(instances: number): Promise<Target> {
  const prefix = testPrefix();
  const ports = await Promise.all(Array.from({ length: instances }, freePort));
  const procs = ports.map((port) =>
    fork(new URL('./lib/socketio-server.ts', import.meta.url).pathname, [String(port), prefix], {
      execArgv: ['--import', 'tsx'],
      stdio: 'ignore',
    }),
  );
  await Promise.all(procs.map((p) => new Promise((r) => p.once('message', r))));
  return {
    name: 'Socket.IO + redis-adapter',
    procs,
    urls: ports.map((p) => `http://127.0.0.1:${p}`),
    vote: (i) => ({ port: ports[i % ports.length] as number, path: `/vote?option=p${(i % 3) + 1}` }),
    stop: async () => {
      for (const p of procs) p.kill('SIGKILL');
    },
  };
}

interface ClientStats {
  pairs: number;
  expected: number;
  undelivered: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  within1s: number;
  frames: number;
  clientsAtFinal: number;
  cpu: { user: number; system: number };
}

interface Load {
  name: string;
  clients: number;
  rate: number;
  seconds: number;
  instances: number;
  /** Short name for LOADS=… */
  key: string;
}

async function run(make: () => Promise<Target>, load: Load) {
  const target = await make();
  const clients = fork(new URL('./lib/fanout-clients.ts', import.meta.url).pathname, [], {
    execArgv: ['--import', 'tsx'],
    stdio: 'inherit',
  });
  const message = <T>(type: string) =>
    new Promise<T>((resolve, reject) => {
      const on = (m: { type: string; error?: string }) => {
        if (m.type === 'error') reject(new Error(m.error));
        if (m.type !== type) return;
        clients.off('message', on);
        resolve(m as T);
      };
      clients.on('message', on);
    });
  try {
    const pids = target.procs.map((p) => p.pid as number);
    const rssBefore = pids.reduce((a, p) => a + rssKb(p), 0);
    clients.send({
      type: 'connect',
      target: target.name === 'livevote' ? 'livevote' : 'socketio',
      urls: target.urls,
      n: load.clients,
    });
    await message('connected');
    await new Promise((r) => setTimeout(r, 2_000)); // settle, then measure idle connections
    const rssAfter = pids.reduce((a, p) => a + rssKb(p), 0);
    const cpu0 = pids.reduce((a, p) => a + cpuTicks(p), 0);
    const bus0 = (await target.busPublishes?.()) ?? [];
    const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
    const total = load.rate * load.seconds;
    const t0 = now();
    let failed = 0;
    const inflight: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const due = t0 + (i * 1000) / load.rate;
      const wait = due - now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const v = target.vote(i);
      clients.send({ type: 'sent', v: i + 1, t: now() });
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
              res.resume();
              res.on('end', resolve);
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
    clients.send({ type: 'finish', last: total });
    const { stats } = await message<{ stats: ClientStats }>('stats');
    const cpu1 = pids.reduce((a, p) => a + cpuTicks(p), 0);
    agent.destroy();
    // Published during the load: the counter at its end minus at its start (poll creation publishes too).
    const busPublishes = ((await target.busPublishes?.()) ?? []).map((n, i) => {
      const before = bus0[i];
      return n === null || before === null || before === undefined ? null : n - before;
    });
    return {
      ...stats,
      votes: total,
      busPublishes,
      failed,
      kbPerConn: (rssAfter - rssBefore) / load.clients,
      serverCpuPct: ((cpu1 - cpu0) / 100 / sendSeconds) * 100,
      clientCpuS: (stats.cpu.user + stats.cpu.system) / 1e6,
      framesPerSecTotal: stats.frames / sendSeconds,
    };
  } finally {
    clients.kill('SIGKILL');
    await target.stop();
  }
}

const fmt = (x: number, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '∞');

async function main() {
  const db = await createTestDatabase();
  const loads: Load[] = [
    // The floor: one client per instance, so neither the servers nor the measuring process is busy.
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
  const rows: string[] = [];
  const busNotes: string[] = [];
  // Only some loads, printed, RESULTS.md untouched: `npm run bench:fanout -- <words>` (the loads whose name
  // contains them) or LOADS=burst,1k (keys: floor, 1k, 2k, burst, 10k; in the order of the table).
  // BENCH_OUT=<file> also appends every run's figures to that file, one JSON object a line.
  const only = process.argv[2];
  const keys = process.env.LOADS?.split(',').map((k) => k.trim());
  const unknown = keys?.filter((k) => !loads.some((l) => l.key === k)) ?? [];
  if (unknown.length)
    throw new Error(`LOADS: unknown ${unknown.join(', ')} (${loads.map((l) => l.key).join(', ')})`);
  const selected = loads.filter((l) => (!only || l.name.includes(only)) && (!keys || keys.includes(l.key)));
  try {
    for (const load of selected) {
      for (const [name, make] of [
        ['livevote', () => livevote(load.instances, db.url)],
        ['Socket.IO + redis-adapter', () => socketio(load.instances)],
      ] as const) {
        const r = await run(make, load);
        console.log(name, load.name, JSON.stringify(r));
        if (process.env.BENCH_OUT)
          appendFileSync(
            process.env.BENCH_OUT,
            `${JSON.stringify({ at: new Date().toISOString(), load: load.key, target: name, ...r })}\n`,
          );
        const counts = r.busPublishes.filter((n): n is number => n !== null);
        if (counts.length)
          busNotes.push(
            `${load.name}: ${counts.join(' + ')} bus publishes (per instance) for ${r.votes} votes = ${(counts.reduce((a, b) => a + b, 0) / r.votes).toFixed(3)} per vote`,
          );
        rows.push(
          `| ${load.name} | ${name} | ${fmt(r.p50)} | ${fmt(r.p90)} | ${fmt(r.p99)} | ${fmt(r.max, 0)} | ${fmt(r.within1s * 100)} % | ${r.undelivered} | ${r.clientsAtFinal}/${load.clients} | ${fmt(r.framesPerSecTotal / load.clients, 1)} | ${fmt(r.kbPerConn)} | ${fmt(r.serverCpuPct, 0)} % |`,
        );
      }
    }
  } finally {
    await db.drop();
  }
  if (only || keys) {
    console.log([...rows, ...busNotes].join('\n'));
    return;
  }
  writeSection(
    `fan-out — ${new Date().toISOString().slice(0, 10)}`,
    `Machine: ${machine('Postgres and Redis on the same machine')}. Command: \`npm run bench:fanout\`.
Servers, the client process and the voter are separate processes sharing the 2 cores. Votes are sent open-loop at
the fixed rate to the instances in turn; every client is a read-only viewer of the one hot poll.

| load | target | p50 ms | p90 ms | p99 ms | max ms | pairs within 1 s | pairs never delivered | clients on the final version | frames/s per client | server RSS per idle connection (KB) | server CPU |
|---|---|---|---|---|---|---|---|---|---|---|---|
${rows.join('\n')}

- Latency: for every vote v and every client, the time from sending v to that client's first frame showing version
  ≥ v (one coalesced snapshot can cover several votes; a skipped one counts as late, not as missing).
- livevote paces broadcasts per poll (token bucket: 3 back to back, then ≤ 20/s; bursts merge) and writes one pre-framed buffer to
  every socket; the baseline emits every vote to every client, serialised by Socket.IO per emit.
- RSS per idle connection: the servers' summed VmRSS after connecting the clients minus before, divided by the count.${
      busNotes.length
        ? `
- livevote's bus messages (\`livevote_bus_publishes_total\` of each instance at the end of the load; each instance
  publishes the snapshots of the votes it committed): ${busNotes.join('; ')}.`
        : ''
    }`,
  );
}

await main();
