// One process of the fan-out benchmark's watching side (client-pool.ts runs several): N clients spread over the
// instances. For every vote v (its send time arrives over IPC from the voter) and every client, the latency is the
// time until that client first holds a snapshot of version ≥ v. Latencies go into a 0.1 ms histogram that the
// parent merges over the processes.
//
// Both targets are read by the same code: a plain `ws` socket per client that finds the snapshot's version by
// scanning the frame's bytes (no JSON.parse, no client library), so neither target's client costs more CPU than the
// other's. Socket.IO's side speaks Engine.IO v4 over its WebSocket transport directly (open packet, `40` to join
// the default namespace, `3` for each ping, events as `42["vote_update",{…}]`).
//
// The process measures itself between `start` and `finish`: CPU time (user + system) and event-loop delay. A
// process that used most of a core, or whose loop lagged, was measuring itself: the parent refuses such a row.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import WebSocket from 'ws';

export type ClientMsg =
  | { type: 'connect'; target: 'livevote' | 'socketio'; urls: string[]; n: number; offset: number }
  | { type: 'start' }
  | { type: 'sent'; v: number; t: number }
  | { type: 'finish'; last: number };

export interface WorkerStats {
  /** [bucket, count] pairs of the latency histogram (0.1 ms buckets). */
  hist: [number, number][];
  overflow: number;
  clients: number;
  clientsAtFinal: number;
  /** Every message received during the window, and those that carried a snapshot. */
  frames: number;
  updates: number;
  cpuMs: number;
  wallMs: number;
  eldP99Ms: number;
  eldMaxMs: number;
}

export const BUCKET_MS = 0.1;
export const HIST_BUCKETS = 200_000; // up to 20 s

const now = () => performance.timeOrigin + performance.now();
const VERSION = Buffer.from('"version":');
const LIVEVOTE_UPDATE = Buffer.from('{"type":"vote_update"');
const SIO_UPDATE = Buffer.from('42["vote_update"');

const hist = new Uint32Array(HIST_BUCKETS);
let overflow = 0;
const sentAt = new Map<number, number>();
/** Frames that beat their vote's send time over IPC: arrival times waiting for it. */
const early = new Map<number, number[]>();
const clients: { last: number; close: () => void }[] = [];
let frames = 0;
let updates = 0;
let running = false;
const eld = monitorEventLoopDelay({ resolution: 10 });
let window0 = { cpu: process.cpuUsage(), wall: 0 };
let windowEnd: { cpu: NodeJS.CpuUsage; wall: number } | undefined;

function record(ms: number) {
  const b = Math.floor(Math.max(0, ms) / BUCKET_MS);
  if (b < hist.length) hist[b] = (hist[b] ?? 0) + 1;
  else overflow++;
}

/** The top-level version of a snapshot frame: the first `"version":` after the prefix (poll_id comes before it). */
function versionOf(d: Buffer, from: number): number {
  let i = d.indexOf(VERSION, from);
  if (i < 0) return -1;
  i += VERSION.length;
  let v = 0;
  for (let c = d[i]; c !== undefined && c >= 48 && c <= 57; c = d[++i]) v = v * 10 + (c - 48);
  return v;
}

function seen(c: { last: number }, version: number) {
  updates++;
  if (version <= c.last) return;
  const t = now();
  for (let v = c.last + 1; v <= version; v++) {
    const s = sentAt.get(v);
    if (s === undefined) {
      if (v > 0 && running) {
        // Appended in place: a copy per frame would cost O(clients²) per vote at 10k clients.
        const waiting = early.get(v);
        if (waiting) waiting.push(t);
        else early.set(v, [t]);
      }
      continue; // before the run, or its send time is still on its way over IPC
    }
    record(t - s);
  }
  c.last = version;
}

function open(target: 'livevote' | 'socketio', base: string): Promise<{ last: number; close: () => void }> {
  const c = { last: -1, close: () => {} };
  const url =
    target === 'livevote' ? base : `${base.replace(/^http/, 'ws')}/socket.io/?EIO=4&transport=websocket`;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  c.close = () => ws.terminate();
  return new Promise((resolve, reject) => {
    ws.once('error', reject);
    if (target === 'livevote') {
      ws.once('open', () => resolve(c));
      ws.on('message', (d: Buffer) => {
        if (running) frames++;
        if (d.subarray(0, LIVEVOTE_UPDATE.length).equals(LIVEVOTE_UPDATE))
          seen(c, versionOf(d, LIVEVOTE_UPDATE.length));
      });
      return;
    }
    ws.on('message', (d: Buffer) => {
      const kind = d[0];
      if (kind === 0x32 && d.length === 1) return ws.send('3'); // Engine.IO ping → pong
      if (kind === 0x30) return ws.send('40'); // open packet → join the default namespace
      if (kind !== 0x34) return;
      if (d[1] === 0x30) return resolve(c); // namespace joined (the server has put us in the poll's room)
      if (running) frames++;
      if (d.subarray(0, SIO_UPDATE.length).equals(SIO_UPDATE)) seen(c, versionOf(d, SIO_UPDATE.length));
    });
  });
}

async function connect(target: 'livevote' | 'socketio', urls: string[], n: number, offset: number) {
  const batch = 100;
  for (let i = 0; i < n; i += batch) {
    const opened = await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, j) =>
        open(target, urls[(offset + i + j) % urls.length] as string),
      ),
    );
    clients.push(...opened);
  }
}

function stats(last: number): WorkerStats {
  const end = windowEnd ?? { cpu: process.cpuUsage(), wall: now() };
  const cpuMs = (end.cpu.user - window0.cpu.user + end.cpu.system - window0.cpu.system) / 1000;
  const sparse: [number, number][] = [];
  for (let i = 0; i < hist.length; i++) if (hist[i]) sparse.push([i, hist[i] as number]);
  return {
    hist: sparse,
    overflow,
    clients: clients.length,
    clientsAtFinal: clients.filter((c) => c.last >= last).length,
    frames,
    updates,
    cpuMs,
    wallMs: end.wall - window0.wall,
    eldP99Ms: eld.percentile(99) / 1e6,
    eldMaxMs: eld.max / 1e6,
  };
}

process.on('message', async (m: ClientMsg) => {
  if (m.type === 'connect') {
    try {
      await connect(m.target, m.urls, m.n, m.offset);
      process.send?.({ type: 'connected', n: clients.length });
    } catch (err) {
      process.send?.({ type: 'error', error: String(err) });
    }
  } else if (m.type === 'start') {
    running = true;
    frames = 0;
    updates = 0;
    eld.reset();
    eld.enable();
    window0 = { cpu: process.cpuUsage(), wall: now() };
  } else if (m.type === 'sent') {
    sentAt.set(m.v, m.t);
    for (const t of early.get(m.v) ?? []) record(t - m.t);
    early.delete(m.v);
  } else if (m.type === 'finish') {
    // The measured window ends with the last vote's send; then stragglers get up to 10 s to reach the final version.
    windowEnd = { cpu: process.cpuUsage(), wall: now() };
    eld.disable();
    const deadline = now() + 10_000;
    while (now() < deadline && clients.some((c) => c.last < m.last))
      await new Promise((r) => setTimeout(r, 50));
    for (const c of clients) c.close();
    // The histogram can be megabytes of IPC: leave only once it has been handed over.
    process.send?.({ type: 'stats', stats: stats(m.last) }, () => process.exit(0));
  }
});
