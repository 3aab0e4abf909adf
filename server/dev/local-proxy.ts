// A small load balancer for the production-like run without Docker (what nginx does in docker-compose.yml):
// chat webhooks go to the bot process, everything else round-robin to the realtime processes, WebSocket upgrades
// included. An upstream that refuses a connection is skipped for a while and the request goes to the next one,
// so killing a realtime process costs its clients one reconnect, not an error page.
import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

export interface Upstream {
  name: string;
  port: number;
  host?: string;
}

export interface ProxyOptions {
  realtime: Upstream[];
  bot?: Upstream;
  /** How long an upstream that refused a connection is left out. */
  downMs?: number;
  /** Largest request body buffered for a retry on another upstream. */
  maxBodyBytes?: number;
}

const CHAT_PATHS = /^\/(slack\/|teams\/|api\/messages(\?|$))/;

export class LocalProxy {
  private next = 0;
  private readonly downUntil = new Map<Upstream, number>();
  private readonly sockets = new Set<Socket | Duplex>();
  readonly server: Server;

  constructor(private readonly o: ProxyOptions) {
    this.server = createServer((req, res) => {
      void this.readBody(req).then(
        (body) => this.forward(req, body, res, this.candidates(req.url ?? '/')),
        () => res.writeHead(413, { 'content-type': 'application/json' }).end(tooLarge),
      );
    });
    this.server.on('upgrade', (req, socket, head) =>
      this.upgrade(req, socket, head, this.candidates(req.url ?? '/')),
    );
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const a = this.server.address();
        resolve(typeof a === 'object' && a ? a.port : port);
      });
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    this.server.closeAllConnections();
    await new Promise((r) => this.server.close(r));
  }

  /** Upstreams to try, in order: the bot for chat webhooks; otherwise healthy realtimes from the next in turn. */
  private candidates(url: string): Upstream[] {
    if (this.o.bot && CHAT_PATHS.test(url)) return [this.o.bot];
    const all = this.o.realtime;
    const start = this.next++ % all.length;
    const ordered = [...all.slice(start), ...all.slice(0, start)];
    const now = Date.now();
    const healthy = ordered.filter((u) => (this.downUntil.get(u) ?? 0) <= now);
    return healthy.length > 0 ? healthy : ordered;
  }

  private markDown(u: Upstream): void {
    this.downUntil.set(u, Date.now() + (this.o.downMs ?? 2_000));
  }

  private readBody(req: IncomingMessage): Promise<Buffer> {
    const limit = this.o.maxBodyBytes ?? 1_048_576;
    return new Promise((resolve, reject) => {
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (c: Buffer) => {
        size += c.length;
        if (size > limit) {
          req.destroy();
          reject(new Error('body too large'));
        } else chunks.push(c);
      });
      req.on('end', () => resolve(Buffer.concat(chunks)));
      req.on('error', reject);
    });
  }

  private forward(
    req: IncomingMessage,
    body: Buffer,
    res: import('node:http').ServerResponse,
    tries: Upstream[],
  ): void {
    const [u, ...rest] = tries;
    if (!u) {
      res.writeHead(502, { 'content-type': 'application/json' }).end(badGateway);
      return;
    }
    const up = request(
      {
        host: u.host ?? '127.0.0.1',
        port: u.port,
        method: req.method,
        path: req.url,
        headers: { ...req.headers, ...forwardedHeaders(req) },
      },
      (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      },
    );
    up.on('error', (err: NodeJS.ErrnoException) => {
      // Refused or reset before any answer: nothing reached the application, so another upstream may take it.
      if (!res.headersSent && (err.code === 'ECONNREFUSED' || err.code === 'ECONNRESET')) {
        this.markDown(u);
        this.forward(req, body, res, rest);
      } else res.destroy();
    });
    res.on('close', () => up.destroy());
    up.end(body);
  }

  private upgrade(req: IncomingMessage, client: Duplex, head: Buffer, tries: Upstream[]): void {
    const [u, ...rest] = tries;
    if (!u) {
      client.end('HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const upstream = connect(u.port, u.host ?? '127.0.0.1');
    let connected = false;
    upstream.once('connect', () => {
      connected = true;
      const headers = { ...req.headers, ...forwardedHeaders(req) };
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (const [k, v] of Object.entries(headers)) {
        for (const value of Array.isArray(v) ? v : [v]) if (value !== undefined) lines.push(`${k}: ${value}`);
      }
      upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
      if (head.length > 0) upstream.write(head);
      upstream.pipe(client).pipe(upstream);
    });
    upstream.on('error', () => {
      if (!connected) {
        this.markDown(u);
        this.upgrade(req, client, head, rest);
      } else client.destroy();
    });
    client.on('error', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.on('close', () => upstream.destroy());
    this.sockets.add(client);
    client.on('close', () => this.sockets.delete(client));
  }
}

const tooLarge = JSON.stringify({ error: { code: 'payload_too_large', message: 'Request body too large.' } });
const badGateway = JSON.stringify({
  error: { code: 'bad_gateway', message: 'No instance is reachable right now.' },
});

function forwardedHeaders(req: IncomingMessage): Record<string, string> {
  const prior = req.headers['x-forwarded-for'];
  const ip = req.socket.remoteAddress ?? '';
  return {
    'x-forwarded-for': prior ? `${prior}, ${ip}` : ip,
    'x-forwarded-proto': 'http',
    'x-forwarded-host': req.headers.host ?? '',
  };
}
