// The fan-out benchmark's watching side as several processes (fanout-clients.ts each), so that thousands of
// clients are not one event loop's worth: the voter tells every process each vote's send time, and the processes'
// histograms are merged into one. Each process reports the CPU it used and its event-loop delay over the window;
// a row whose client process used most of a core measured the client, and is refused.
import { type ChildProcess, fork } from 'node:child_process';
import { BUCKET_MS, type ClientMsg, HIST_BUCKETS, type WorkerStats } from './fanout-clients.ts';

/** A client process that used this share of one core over the window was the bottleneck, not the servers. */
export const CLIENT_SATURATED = 0.85;

export interface PoolStats {
  pairs: number;
  expected: number;
  undelivered: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
  within1s: number;
  clientsAtFinal: number;
  /** Messages a client received per snapshot it received (1.0: one frame per update). */
  framesPerUpdate: number;
  /** Snapshot frames per client per second of the window. */
  updatesPerClientPerSec: number;
  /** Per process: the share of one core it used, and its event-loop delay p99 (ms). */
  clientCpu: number[];
  clientEldP99: number[];
  saturated: boolean;
}

export interface ClientPool {
  /** Starts the measured window (CPU, event-loop delay) in every process. */
  start(): void;
  sent(v: number, t: number): void;
  finish(last: number): Promise<PoolStats>;
  kill(): void;
}

/** How many processes for n clients: one per thousand, at most four (CLIENT_PROCS overrides). */
export const clientProcs = (n: number) =>
  Number(process.env.CLIENT_PROCS) || Math.min(4, Math.max(1, Math.ceil(n / 1000)));

export async function startClientPool(
  target: 'livevote' | 'socketio',
  urls: string[],
  n: number,
  procs = clientProcs(n),
  /** With it, half the clients connect, this runs (e.g. reads the servers' RSS), then the other half connect. */
  halfway?: (connected: number) => Promise<void>,
): Promise<ClientPool> {
  const children: ChildProcess[] = Array.from({ length: procs }, () =>
    fork(new URL('./fanout-clients.ts', import.meta.url).pathname, [], {
      execArgv: ['--import', 'tsx'],
      stdio: 'inherit',
    }),
  );
  const reply = <T>(child: ChildProcess, type: string) =>
    new Promise<T>((resolve, reject) => {
      // 'disconnect', not 'exit': a process can exit before its last (large) message has been read from the
      // channel, which closes only after every message in it was delivered.
      const gone = () => reject(new Error(`client process left without its ${type} message`));
      const on = (m: { type: string; error?: string }) => {
        if (m.type === 'error') reject(new Error(m.error));
        if (m.type !== type) return;
        child.off('message', on);
        child.off('disconnect', gone);
        resolve(m as T);
      };
      child.on('message', on);
      child.once('disconnect', gone);
    });
  const send = (m: ClientMsg) => {
    for (const c of children) c.send(m);
  };
  // Process k takes clients k·n/procs … (k+1)·n/procs − 1, each on the instance its global index picks; in two
  // phases (the first half of each share, then the rest) when something runs halfway.
  const shares = children.map((_, k) => Math.floor(n / procs) + (k < n % procs ? 1 : 0));
  const connect = (part: (share: number) => [from: number, count: number]) => {
    let offset = 0;
    return Promise.all(
      children.map((child, k) => {
        const share = shares[k] as number;
        const [from, count] = part(share);
        const done = reply(child, 'connected');
        child.send({ type: 'connect', target, urls, n: count, offset: offset + from } satisfies ClientMsg);
        offset += share;
        return done;
      }),
    );
  };
  if (halfway) {
    await connect((share) => [0, Math.floor(share / 2)]);
    await halfway(shares.reduce((a, share) => a + Math.floor(share / 2), 0));
    await connect((share) => [Math.floor(share / 2), share - Math.floor(share / 2)]);
  } else await connect((share) => [0, share]);
  let sentCount = 0;
  return {
    start: () => send({ type: 'start' }),
    sent(v, t) {
      sentCount++;
      send({ type: 'sent', v, t });
    },
    async finish(last) {
      const replies = children.map((c) => reply<{ stats: WorkerStats }>(c, 'stats'));
      send({ type: 'finish', last });
      const all = (await Promise.all(replies)).map((r) => r.stats);
      return merge(all, sentCount);
    },
    kill() {
      for (const c of children) c.kill('SIGKILL');
    },
  };
}

function merge(all: WorkerStats[], sent: number): PoolStats {
  const hist = new Uint32Array(HIST_BUCKETS);
  let overflow = 0;
  for (const s of all) {
    overflow += s.overflow;
    for (const [i, n] of s.hist) hist[i] = (hist[i] ?? 0) + n;
  }
  let total = overflow;
  for (const x of hist) total += x;
  const pct = (p: number) => {
    let acc = 0;
    const want = Math.ceil((p / 100) * total);
    for (let i = 0; i < hist.length; i++) {
      acc += hist[i] ?? 0;
      if (acc >= want) return (i + 1) * BUCKET_MS;
    }
    return Number.POSITIVE_INFINITY;
  };
  let within = 0;
  for (let i = 0; i < 1_000 / BUCKET_MS; i++) within += hist[i] ?? 0;
  let max = 0;
  for (let i = hist.length - 1; i >= 0; i--) {
    if ((hist[i] ?? 0) > 0) {
      max = (i + 1) * BUCKET_MS;
      break;
    }
  }
  const clients = all.reduce((a, s) => a + s.clients, 0);
  const expected = sent * clients;
  const frames = all.reduce((a, s) => a + s.frames, 0);
  const updates = all.reduce((a, s) => a + s.updates, 0);
  const wallS = Math.max(...all.map((s) => s.wallMs)) / 1000;
  const clientCpu = all.map((s) => s.cpuMs / s.wallMs);
  return {
    pairs: total,
    expected,
    undelivered: Math.max(0, expected - total),
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max: overflow > 0 ? Number.POSITIVE_INFINITY : max,
    within1s: expected === 0 ? 0 : within / expected,
    clientsAtFinal: all.reduce((a, s) => a + s.clientsAtFinal, 0),
    framesPerUpdate: updates === 0 ? 0 : frames / updates,
    updatesPerClientPerSec: clients === 0 ? 0 : updates / clients / wallS,
    clientCpu,
    clientEldP99: all.map((s) => s.eldP99Ms),
    saturated: clientCpu.some((c) => c >= CLIENT_SATURATED),
  };
}
