// A local stand-in for Slack's Web API: records every call (method, parsed body, time) and answers like Slack.
// Tests can make chat.update answer 429 with a Retry-After.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
  at: number;
  status: number;
  /** What the fake answered (chat.postMessage: the new message's ts). */
  answer: Record<string, unknown>;
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  private server?: Server;
  private ts = 1_700_000_000;
  /** The next N chat.update calls answer 429 with this Retry-After (seconds). */
  rateLimit = { next: 0, retryAfter: 1 };
  /** The next N calls of a method (other than chat.update's `rateLimit`) answer HTTP 429 with this Retry-After. */
  readonly throttled = new Map<string, { next: number; retryAfter: number }>();
  /** Scripted errors, answered as Slack does: HTTP 200 with `{ok: false, error}`. */
  private readonly failures: { method: string; error: string; channel?: string; times: number }[] = [];

  /** `method` (on `channel`, if named) answers `{ok: false, error}` for the next `times` calls (default: always). */
  fail(method: string, error: string, o: { channel?: string; times?: number } = {}): void {
    this.failures.push({ method, error, times: o.times ?? Number.POSITIVE_INFINITY, ...o });
  }

  private scripted(method: string, body: Record<string, unknown>): string | undefined {
    // Slack checks the blocks before anything else: more than 50 is invalid_blocks.
    if (Array.isArray(body.blocks) && body.blocks.length > 50) return 'invalid_blocks';
    const f = this.failures.find(
      (x) => x.method === method && x.times > 0 && (x.channel === undefined || x.channel === body.channel),
    );
    if (!f) return undefined;
    f.times--;
    return f.error;
  }
  url = '';

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => {
        raw += d;
      });
      req.on('end', () => {
        const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
        const body: Record<string, unknown> = {};
        if ((req.headers['content-type'] ?? '').includes('json'))
          Object.assign(body, JSON.parse(raw || '{}'));
        else {
          for (const [k, v] of new URLSearchParams(raw)) {
            try {
              body[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
            } catch {
              body[k] = v;
            }
          }
        }
        let status = 200;
        let answer: Record<string, unknown> = { ok: true };
        const error = this.scripted(method, body);
        const throttle = this.throttled.get(method);
        if (throttle && throttle.next > 0) {
          throttle.next--;
          status = 429;
          res.setHeader('Retry-After', String(throttle.retryAfter));
          answer = { ok: false, error: 'ratelimited' };
        } else if (error) answer = { ok: false, error };
        else if (method === 'chat.update' && this.rateLimit.next > 0) {
          this.rateLimit.next--;
          status = 429;
          res.setHeader('Retry-After', String(this.rateLimit.retryAfter));
          answer = { ok: false, error: 'ratelimited' };
        } else if (method === 'chat.postMessage') {
          answer = { ok: true, channel: body.channel, ts: `${++this.ts}.000100` };
        } else if (method === 'chat.update') {
          answer = { ok: true, channel: body.channel, ts: body.ts };
        }
        this.calls.push({ method, body, at: Date.now(), status, answer });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    const server = this.server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  of(method: string, status = 200): SlackCall[] {
    return this.calls.filter((c) => c.method === method && c.status === status);
  }
}

/** Signs a request body the way Slack does (v0 scheme). */
export function slackHeaders(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}
