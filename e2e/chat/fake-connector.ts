// A local stand-in for the Bot Framework connector a Teams bot replies to (the activity's serviceUrl): records
// POST (send) and PUT (update) calls with their time; can answer 429 with a Retry-After.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConnectorCall {
  method: string;
  path: string;
  body: Record<string, unknown>;
  at: number;
  status: number;
}

export class FakeConnector {
  readonly calls: ConnectorCall[] = [];
  url = '';
  /** The next N updates of `activityId` (any activity when unset) answer 429 with this Retry-After. */
  rateLimit: { next: number; retryAfter: number; activityId?: string } = { next: 0, retryAfter: 1 };
  private server?: Server;
  private n = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => {
        raw += d;
      });
      req.on('end', () => {
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        let status = 200;
        let answer: Record<string, unknown> = {};
        if (req.method === 'POST') answer = { id: `act-${++this.n}` };
        else if (req.method === 'PUT') {
          answer = { id: (req.url ?? '').split('/').pop() ?? '' };
          const target = this.rateLimit.activityId;
          if (this.rateLimit.next > 0 && (!target || (req.url ?? '').endsWith(`/activities/${target}`))) {
            this.rateLimit.next--;
            status = 429;
            res.setHeader('Retry-After', String(this.rateLimit.retryAfter));
            answer = { error: { code: 'TooManyRequests' } };
          }
        }
        this.calls.push({ method: req.method ?? '', path: req.url ?? '', body, at: Date.now(), status });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    const server = this.server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  puts(activityId: string, status = 200): ConnectorCall[] {
    return this.calls.filter(
      (c) => c.method === 'PUT' && c.path.endsWith(`/activities/${activityId}`) && c.status === status,
    );
  }

  posts(): ConnectorCall[] {
    return this.calls.filter((c) => c.method === 'POST');
  }
}
