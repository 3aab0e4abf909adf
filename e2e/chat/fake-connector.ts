// A local stand-in for the Bot Framework connector a Teams bot replies to (the activity's serviceUrl). Like Teams, its
// serviceUrl ends in a slash (`http://127.0.0.1:port/amer/`), so a client that joins it raw calls `…/amer//v3/…`:
// recorded as such and answered 404, as the real service does. It records POST (send), PUT (update) and targeted
// sends with their time, and answers with Teams' failures on demand: 403 (bot removed), 404, 412, 413, 429 with
// Retry-After, 502. Like the service it keeps the activities it was sent: an update (PUT) or DELETE of an id it
// never gave out, or deleted, is 404 `ActivityNotFoundInConversation`; and an activity past Teams' ~28 KB message
// limit (its JSON, attachments included) is 413 `MessageSizeTooBig`.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface ConnectorCall {
  method: string;
  /** The path after the service URL's own prefix (`/v3/conversations/…`), query included. */
  path: string;
  /** The path as it arrived, prefix included (`/amer/v3/…`, or `/amer//v3/…` from a client joining it raw). */
  rawPath: string;
  body: Record<string, unknown>;
  at: number;
  status: number;
  /** The activity id the connector answered with (sends and updates that succeeded). */
  answerId?: string;
}

/** One failure the connector answers with, for the next `times` matching calls. */
export interface ConnectorFailure {
  status: 403 | 404 | 412 | 413 | 429 | 502;
  times: number;
  /** 429 only: seconds, as Teams sends it. */
  retryAfter?: number;
  method?: 'POST' | 'PUT';
  /** Only calls whose path ends with this (`/activities/act-3`). */
  pathEndsWith?: string;
}

/** Teams refuses a message larger than about 28 KB. */
export const MAX_ACTIVITY_BYTES = 28 * 1024;

const ERROR_CODES: Record<ConnectorFailure['status'], string> = {
  403: 'BotNotInConversationRoster',
  404: 'ActivityNotFoundInConversation',
  412: 'PreconditionFailed',
  413: 'MessageSizeTooBig',
  429: 'TooManyRequests',
  502: 'ServiceError',
};

export class FakeConnector {
  readonly calls: ConnectorCall[] = [];
  /** The service URL to put in activities: with a trailing slash, like Teams'. */
  url = '';
  private readonly prefix = '/amer';
  private failures: ConnectorFailure[] = [];
  private server?: Server;
  private n = 0;
  /** Activity ids the connector handed out and still holds. */
  private readonly activities = new Set<string>();

  /** An activity a test placed in a conversation itself (the service answers others 404). */
  knowActivity(id: string): void {
    this.activities.add(id);
  }

  /** What the service answers before taking a send or an update: the activity's size, the target's existence. */
  private refused(method: string, path: string, raw: string): ConnectorFailure['status'] | undefined {
    if ((method === 'POST' || method === 'PUT') && Buffer.byteLength(raw) > MAX_ACTIVITY_BYTES) return 413;
    const id = /\/activities\/([^/?]+)/.exec(path)?.[1];
    if (
      (method === 'PUT' || method === 'DELETE') &&
      id !== undefined &&
      !this.activities.has(decodeURIComponent(id))
    )
      return 404;
    return undefined;
  }

  /** The next matching calls fail this way (queued behind failures already set). */
  fail(f: ConnectorFailure): void {
    this.failures.push({ ...f });
  }

  /** Back compat: the next N updates of `activityId` answer 429 with this Retry-After. */
  set rateLimit(r: { next: number; retryAfter: number; activityId?: string }) {
    if (r.next > 0)
      this.fail({
        status: 429,
        times: r.next,
        retryAfter: r.retryAfter,
        method: 'PUT',
        ...(r.activityId ? { pathEndsWith: `/activities/${r.activityId}` } : {}),
      });
  }

  private takeFailure(method: string, path: string): ConnectorFailure | undefined {
    const bare = path.split('?')[0] ?? '';
    const f = this.failures.find(
      (x) =>
        x.times > 0 &&
        (!x.method || x.method === method) &&
        (!x.pathEndsWith || bare.endsWith(x.pathEndsWith)),
    );
    if (!f) return undefined;
    f.times--;
    this.failures = this.failures.filter((x) => x.times > 0);
    return f;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => {
        raw += d;
      });
      req.on('end', () => {
        const body = raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
        const rawPath = req.url ?? '';
        const method = req.method ?? '';
        const path = rawPath.startsWith(`${this.prefix}/`) ? rawPath.slice(this.prefix.length) : rawPath;
        let status = 200;
        let answer: Record<string, unknown> = {};
        const refusedAs = path.startsWith('/v3/') ? this.refused(method, path, raw) : undefined;
        const failure: ConnectorFailure | undefined = path.startsWith('/v3/')
          ? (this.takeFailure(method, path) ?? (refusedAs ? { status: refusedAs, times: 0 } : undefined))
          : undefined;
        if (!path.startsWith('/v3/')) {
          // `…/amer//v3/…` (a raw trailing-slash join) or any other path: the service knows no such route.
          status = 404;
          answer = { error: { code: 'NotFound', message: 'No such route' } };
        } else if (failure) {
          status = failure.status;
          if (failure.retryAfter !== undefined) res.setHeader('Retry-After', String(failure.retryAfter));
          answer = {
            error: { code: ERROR_CODES[failure.status], message: `fake connector ${failure.status}` },
          };
        } else if (method === 'POST') {
          answer = { id: `act-${++this.n}` };
          this.activities.add(answer.id as string);
        } else if (method === 'PUT') answer = { id: (path.split('?')[0] ?? '').split('/').pop() ?? '' };
        else if (method === 'DELETE')
          this.activities.delete(decodeURIComponent((path.split('?')[0] ?? '').split('/').pop() ?? ''));
        const answerId = typeof answer.id === 'string' ? answer.id : undefined;
        this.calls.push({
          method,
          path,
          rawPath,
          body,
          at: Date.now(),
          status,
          ...(answerId ? { answerId } : {}),
        });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    const server = this.server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${this.prefix}/`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  /** Updates of one activity that reached the right path (`/v3/conversations/<id>/activities/<activity id>`). */
  puts(activityId: string, status = 200): ConnectorCall[] {
    return this.calls.filter(
      (c) => c.method === 'PUT' && c.path.endsWith(`/activities/${activityId}`) && c.status === status,
    );
  }

  /** Sends to a conversation (not targeted ones). */
  posts(): ConnectorCall[] {
    return this.calls.filter((c) => c.method === 'POST' && !c.path.includes('isTargetedActivity=true'));
  }

  /** Messages only their recipient sees. */
  targeted(): ConnectorCall[] {
    return this.calls.filter((c) => c.method === 'POST' && c.path.includes('isTargetedActivity=true'));
  }

  /** Calls to a malformed path (`//v3`): a client that joined the trailing-slash service URL raw. */
  malformed(): ConnectorCall[] {
    return this.calls.filter((c) => c.rawPath.includes('//'));
  }
}
