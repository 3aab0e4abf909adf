// What one idle WebSocket connection costs a server: connect clients in steps (e.g. 1,000, then 4,000 more) to
// ONE process, let them settle, and read its RSS at each step. The slope between two steps is the marginal cost
// of a connection; the first step's RSS minus the idle process's, divided by its count, is the "total delta" the
// fan-out table has always shown, which also carries fixed costs (the V8 young generation growing once under the
// handshake burst, heap slack) spread over however many clients there were. Optionally a heap snapshot at each
// step (written by the server itself on SIGUSR2) says what the JS heap holds per connection, object by object.
import { readdirSync, readFileSync, renameSync, rmSync, statSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { startClientPool } from './client-pool.ts';
import { type Census, census } from './heap-census.ts';

export const rssKb = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? Number.NaN);

export interface Step {
  clients: number;
  rssKb: number;
  census?: Census;
}

export interface ConnectionCost {
  idleKb: number;
  steps: Step[];
}

/** Waits for the newest .heapsnapshot in dir to appear and stop growing; returns its path. */
async function snapshotFile(dir: string, before: Set<string>): Promise<string> {
  for (let i = 0; i < 600; i++) {
    await sleep(250);
    const fresh = readdirSync(dir).filter((f) => f.endsWith('.heapsnapshot') && !before.has(f));
    if (!fresh.length) continue;
    const path = `${dir}/${fresh[0]}`;
    // V8 writes it in one go and closes it; a size that holds still for a second is done.
    const a = statSync(path).size;
    await sleep(1_000);
    if (a > 0 && statSync(path).size === a) return path;
  }
  throw new Error('no heap snapshot within 150 s');
}

/**
 * Connects `steps` clients (cumulative: [1000, 5000] = 1,000, then 4,000 more) of `kind` to `url`, served by
 * process `pid`, reading its RSS `settleMs` after each step. With `snapshotDir` (the server's --diagnostic-dir,
 * started with --heapsnapshot-signal=SIGUSR2), also a heap census at each step, taken after the RSS read.
 */
export async function connectionCost(
  pid: number,
  kind: 'livevote' | 'socketio',
  url: string,
  steps: number[],
  o: { settleMs?: number; snapshotDir?: string; onStep?: (s: Step) => void } = {},
): Promise<ConnectionCost> {
  const settle = o.settleMs ?? 5_000;
  const idleKb = rssKb(pid);
  const pools: { kill(): void }[] = [];
  const out: Step[] = [];
  let have = 0;
  try {
    for (const n of steps) {
      const more = n - have;
      pools.push(await startClientPool(kind, [url], more, Math.min(4, Math.max(1, Math.ceil(more / 1000)))));
      have = n;
      await sleep(settle);
      const step: Step = { clients: n, rssKb: rssKb(pid) };
      o.onStep?.(step);
      if (o.snapshotDir) {
        const dir = o.snapshotDir;
        const before = new Set(readdirSync(dir));
        process.kill(pid, 'SIGUSR2');
        const file = await snapshotFile(dir, before);
        step.census = census(file);
        if (process.env.KEEP_SNAPSHOT) renameSync(file, `${process.env.KEEP_SNAPSHOT}-${n}.heapsnapshot`);
        else rmSync(file);
      }
      out.push(step);
    }
  } finally {
    for (const p of pools) p.kill();
  }
  return { idleKb, steps: out };
}

/** KB of RSS per connection between two steps (the marginal cost). */
export const slopeKb = (a: Step, b: Step) => (b.rssKb - a.rssKb) / (b.clients - a.clients);
/** KB of RSS per connection from the idle process to a step (the old "total delta" figure). */
export const totalDeltaKb = (c: ConnectionCost, s: Step) => (s.rssKb - c.idleKb) / s.clients;
