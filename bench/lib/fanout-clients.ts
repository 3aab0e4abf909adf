// The watching side of the fan-out benchmark, in its own process: N clients spread over the instances. For every
// vote v (its send time arrives over IPC from the voter) and every client, the latency is the time until that
// client first holds a snapshot of version ≥ v. Latencies go into a 0.1 ms histogram, so 10k clients fit.
import { io as ioClient } from 'socket.io-client';
import WebSocket from 'ws';

type Msg =
  | { type: 'connect'; target: 'livevote' | 'socketio'; urls: string[]; n: number }
  | { type: 'sent'; v: number; t: number }
  | { type: 'finish'; last: number };

const now = () => performance.timeOrigin + performance.now();
const VOTE_UPDATE = Buffer.from('{"type":"vote_update"');
const BUCKET_MS = 0.1;
const hist = new Uint32Array(200_000); // up to 20 s
let overflow = 0;
const sentAt = new Map<number, number>();
/** Frames that beat their vote's send time over IPC: arrival times waiting for it. */
const early = new Map<number, number[]>();
let clients: { last: number; close: () => void }[] = [];
let frames = 0;
let maxVersion = 0;

let running = false;

function record(ms: number) {
  const b = Math.floor(Math.max(0, ms) / BUCKET_MS);
  if (b < hist.length) hist[b] = (hist[b] ?? 0) + 1;
  else overflow++;
}

function seen(c: { last: number }, version: number) {
  frames++;
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

async function connect(target: 'livevote' | 'socketio', urls: string[], n: number) {
  const batch = 250;
  for (let i = 0; i < n; i += batch) {
    await Promise.all(
      Array.from({ length: Math.min(batch, n - i) }, (_, j) => {
        const url = urls[(i + j) % urls.length] as string;
        const c = { last: -1, close: () => {} };
        clients.push(c);
        return new Promise<void>((resolve, reject) => {
          if (target === 'livevote') {
            const ws = new WebSocket(url);
            ws.on('message', (d: Buffer) => {
              // Only vote_update carries what is measured; one process holds thousands of clients, so it skips
              // parsing the other frame types (a browser tab parses its own few frames at leisure).
              if (d.subarray(0, VOTE_UPDATE.length).equals(VOTE_UPDATE)) {
                const f = JSON.parse(String(d)) as { data: { version: number } };
                seen(c, f.data.version);
              }
            });
            ws.once('open', () => resolve());
            ws.once('error', reject);
            c.close = () => ws.terminate();
          } else {
            const s = ioClient(url, { transports: ['websocket'], reconnection: false });
            s.on('vote_update', (d: { version: number }) => seen(c, d.version));
            s.once('connect', () => resolve());
            s.once('connect_error', reject);
            c.close = () => s.disconnect();
          }
        });
      }),
    );
  }
}

function stats(last: number) {
  let total = 0;
  for (const x of hist) total += x;
  total += overflow;
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
  for (let i = 0; i < 10_000; i++) within += hist[i] ?? 0;
  let max = 0;
  for (let i = hist.length - 1; i >= 0; i--) {
    if ((hist[i] ?? 0) > 0) {
      max = (i + 1) * BUCKET_MS;
      break;
    }
  }
  const expected = [...sentAt.keys()].filter((v) => v <= last).length * clients.length;
  return {
    pairs: total,
    expected,
    undelivered: Math.max(0, expected - total),
    p50: pct(50),
    p90: pct(90),
    p99: pct(99),
    max: overflow > 0 ? Number.POSITIVE_INFINITY : max,
    within1s: expected === 0 ? 0 : within / expected,
    frames,
    clientsAtFinal: clients.filter((c) => c.last >= last).length,
    cpu: process.cpuUsage(),
  };
}

process.on('message', async (m: Msg) => {
  if (m.type === 'connect') {
    try {
      await connect(m.target, m.urls, m.n);
      process.send?.({ type: 'connected', n: clients.length });
    } catch (err) {
      process.send?.({ type: 'error', error: String(err) });
    }
  } else if (m.type === 'sent') {
    running = true;
    sentAt.set(m.v, m.t);
    maxVersion = Math.max(maxVersion, m.v);
    for (const t of early.get(m.v) ?? []) record(t - m.t);
    early.delete(m.v);
  } else if (m.type === 'finish') {
    // Give stragglers up to 10 s to reach the final version, then report.
    const deadline = now() + 10_000;
    while (now() < deadline && clients.some((c) => c.last < m.last))
      await new Promise((r) => setTimeout(r, 50));
    process.send?.({ type: 'stats', stats: stats(m.last) });
    for (const c of clients) c.close();
    clients = [];
    setTimeout(() => process.exit(0), 200);
  }
});
