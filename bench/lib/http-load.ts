// Load generator for the HTTP target, run as its own process so it never shares the server's event loop.
import http from 'node:http';

interface Job {
  url: string;
  pollId: string;
  n: number;
  c: number;
  offset: number;
  keyPrefix: string;
}

const job = JSON.parse(process.argv[2] ?? '{}') as Job;
const agent = new http.Agent({ keepAlive: true, maxSockets: job.c });
const u = new URL(job.url);

function post(i: number): Promise<number> {
  const body = JSON.stringify({ question_id: 'q1', option_ids: [`o${(i % 5) + 1}`] });
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: u.hostname,
        port: u.port,
        method: 'POST',
        path: `/api/polls/${job.pollId}/votes?emp_no=${job.offset + i}`,
        agent,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          'idempotency-key': `${job.keyPrefix}${i}`,
        },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const latencies: number[] = [];
let next = 0;
let failed = 0;
const t0 = performance.now();
await Promise.all(
  Array.from({ length: job.c }, async () => {
    while (next < job.n) {
      const i = next++;
      const s = performance.now();
      const status = await post(i);
      latencies.push(performance.now() - s);
      if (status !== 200) failed++;
    }
  }),
);
agent.destroy();
process.send?.({ seconds: (performance.now() - t0) / 1000, latencies, failed }, () => process.exit(0));
