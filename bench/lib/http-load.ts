// Load generator for the HTTP target, run as its own process so it never shares the server's event loop.
// It shares the machine's cores with the server and Postgres, so it is kept lean: one keep-alive TCP connection per
// concurrent voter, each request written as one string, and the answer read only as far as the status and
// Content-Length (a node:http client spent about as much CPU per request as the server's vote fast path). It
// reports its own CPU so a row measured while it was saturated can be told apart.
import net from 'node:net';

interface Job {
  url: string;
  pollId: string;
  n: number;
  c: number;
  offset: number;
  keyPrefix: string;
}

export interface LoadResult {
  seconds: number;
  latencies: number[];
  failed: number;
  /** CPU the load generator used over the run, as a share of one core. */
  cpu: number;
}

const HEADER_END = Buffer.from('\r\n\r\n');
const CONTENT_LENGTH = /\r\ncontent-length:\s*(\d+)/i;

/** The status of a complete HTTP/1.1 answer at the front of `buf`, and where it ends; undefined while incomplete. */
export function parseAnswer(buf: Buffer): { status: number; end: number } | undefined {
  const head = buf.indexOf(HEADER_END);
  if (head < 0) return undefined;
  const text = buf.toString('latin1', 0, head);
  const m = CONTENT_LENGTH.exec(text);
  if (!m) throw new Error(`an answer without Content-Length: ${text.split('\r\n')[0]}`);
  const end = head + 4 + Number(m[1]);
  if (buf.length < end) return undefined;
  return { status: Number(text.slice(9, 12)), end };
}

/** One connection sending one request at a time; resolves each request with the answer's status. */
class Connection {
  private readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private waiting?: { resolve: (status: number) => void; reject: (err: Error) => void };

  constructor(host: string, port: number) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => {
      this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
      const answer = parseAnswer(this.buf);
      if (!answer || !this.waiting) return;
      this.buf = this.buf.subarray(answer.end);
      const w = this.waiting;
      this.waiting = undefined;
      w.resolve(answer.status);
    });
    const fail = (err: Error) => {
      const w = this.waiting;
      this.waiting = undefined;
      w?.reject(err);
    };
    this.socket.on('error', fail);
    this.socket.on('close', () => fail(new Error('the server closed the connection')));
  }

  request(text: string): Promise<number> {
    return new Promise((resolve, reject) => {
      this.waiting = { resolve, reject };
      this.socket.write(text, 'latin1');
    });
  }

  close(): void {
    this.socket.destroy();
  }
}

async function run(job: Job): Promise<LoadResult> {
  const u = new URL(job.url);
  const connections = Array.from({ length: job.c }, () => new Connection(u.hostname, Number(u.port)));
  const request = (i: number) => {
    const body = `{"question_id":"q1","option_ids":["o${(i % 5) + 1}"]}`;
    return (
      `POST /api/polls/${job.pollId}/votes?emp_no=${job.offset + i} HTTP/1.1\r\n` +
      `Host: ${u.host}\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n` +
      `Idempotency-Key: ${job.keyPrefix}${i}\r\n\r\n${body}`
    );
  };
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  await Promise.all(
    connections.map(async (conn) => {
      while (next < job.n) {
        const i = next++;
        const s = performance.now();
        const status = await conn.request(request(i));
        latencies.push(performance.now() - s);
        if (status !== 200) failed++;
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const used = process.cpuUsage(cpu0);
  for (const conn of connections) conn.close();
  return { seconds, latencies, failed, cpu: (used.user + used.system) / 1e6 / seconds };
}

if (process.send) {
  const result = await run(JSON.parse(process.argv[2] ?? '{}') as Job);
  process.send(result, () => process.exit(0));
}
