// The WebSocket endpoint /ws/votes on the HTTP server: identity at upgrade (emp_no in open mode, token in signed
// mode, none for read-only viewers), every client frame checked against the protocol, app-level ping/pong,
// protocol-level heartbeats that drop dead peers.
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import {
  type PollStore,
  retryAfterSeconds,
  StoreErrorLog,
  todaysLunchPoll,
  type Voter,
  WEB_WORKSPACE,
} from '@livevote/core';
import { type ClientFrame, clientFrameSchema, ID_PATTERN, type ServerFrame } from '@livevote/core/protocol';
import WebSocket, { WebSocketServer } from 'ws';
import type { Hub } from '../fanout/hub.ts';
import { PreparedFrame } from '../fanout/prepared-frame.ts';
import { HttpError } from '../http/errors.ts';
import { type AuthSettings, resolveVoter } from '../http/identity.ts';
import { type AddressLimits, addressKey, clientAddress } from '../limits.ts';
import { WsConnection } from './ws-connection.ts';

export const WS_PATH = '/ws/votes';
const MAX_PAYLOAD = 4 * 1024;
const MAX_SUBSCRIPTIONS = 10;

export interface GatewayOptions {
  hub: Hub;
  polls: Pick<PollStore, 'listPolls'>;
  auth: AuthSettings;
  log: { warn(o: object, m?: string): void };
  heartbeatMs?: number;
  /** New connections per client address; absent: unlimited. */
  limits?: Pick<AddressLimits, 'connect'>;
  /** How many proxies in front may name the client in X-Forwarded-For. */
  trustProxy?: number;
  /** The process's log of failed store calls (shared with the other edges); else one of our own. */
  storeErrors?: { report(err: unknown, what: string): boolean };
}

export interface Gateway {
  connections(): number;
  /** Closes every socket with this code (1012 "service restart" on drain: clients reconnect elsewhere). */
  close(code?: number, reason?: string): Promise<void>;
}

/** ws builds the gateway's sockets from this class (its `WebSocket` option): each carries its connection. */
class GatewaySocket extends WebSocket {
  conn?: WsConnection;
}

const frame = (f: ServerFrame) => new PreparedFrame(f);
const errorFrame = (code: string, message: string) => frame({ type: 'error', data: { code, message } });

function rejectUpgrade(
  socket: Duplex,
  status: number,
  code: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error: { code, message } });
  const extra = Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('');
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n${extra}` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

export function attachWebSocket(server: Server, o: GatewayOptions): Gateway {
  const wss = new WebSocketServer({
    WebSocket: GatewaySocket,
    noServer: true,
    maxPayload: MAX_PAYLOAD,
    // Required, not just cheaper: with compression ws would write frames later than ws.send returns, out of order
    // with the pre-framed bytes WsConnection writes to the same socket.
    perMessageDeflate: false,
    clientTracking: false,
  });
  const conns = new Set<WsConnection>();
  const storeErrors = o.storeErrors ?? new StoreErrorLog(o.log);

  /**
   * A read for this socket failed (the store is down, or a bug): the process stays up and the client hears why. A
   * socket that never got its first snapshot would show nothing, so it is closed with 1013 (try again later) and
   * the client reconnects, by then perhaps to a store that answers.
   */
  function failed(conn: WsConnection, err: unknown, joining: boolean): void {
    const outage = storeErrors.report(err, joining ? 'WebSocket join failed' : 'WebSocket frame failed');
    conn.write(
      outage
        ? errorFrame(
            'store_unavailable',
            'The vote store cannot be reached right now; try again in a few seconds.',
          )
        : errorFrame('internal', 'Something went wrong on our side.'),
    );
    if (joining) conn.ws.close(1013, 'try again later');
  }

  server.on('upgrade', async (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== WS_PATH)
      return rejectUpgrade(socket, 404, 'not_found', `WebSocket lives at ${WS_PATH}.`);
    if (o.limits) {
      // Until ws takes the socket over, nothing else listens for its errors; a reset while the limiter answers
      // would otherwise be thrown.
      const dropped = () => socket.destroy();
      socket.on('error', dropped);
      const admitted = await o.limits.connect.take(addressKey(clientAddress(req, o.trustProxy)));
      socket.off('error', dropped);
      if (socket.destroyed) return;
      if (!admitted.ok) {
        const seconds = retryAfterSeconds(admitted.retryAfterMs);
        return rejectUpgrade(
          socket,
          429,
          'rate_limited',
          `Too many new connections from this address; try again in ${seconds} s.`,
          { 'Retry-After': String(seconds) },
        );
      }
    }
    let voter: Voter | null = null;
    const token = url.searchParams.get('token') ?? undefined;
    const empNo = url.searchParams.get('emp_no') ?? undefined;
    if (token !== undefined || empNo !== undefined || o.auth.mode === 'open') {
      try {
        if (token !== undefined || empNo !== undefined) voter = resolveVoter({ token, empNo }, o.auth);
      } catch (e) {
        if (e instanceof HttpError) return rejectUpgrade(socket, e.status, e.code, e.message);
        throw e;
      }
    }
    const pollParam = url.searchParams.get('poll_id');
    if (pollParam !== null && !ID_PATTERN.test(pollParam))
      return rejectUpgrade(socket, 400, 'invalid_poll_id', 'poll_id is malformed.');
    // A reconnecting client says which version it has; it gets a snapshot only if it missed something.
    const versionParam = url.searchParams.get('version');
    const known = versionParam !== null && /^\d{1,15}$/.test(versionParam) ? Number(versionParam) : undefined;
    wss.handleUpgrade(req, socket, head, (ws) => {
      // The original client's URL names no poll (it gets today's lunch poll) and it reads per-option frames.
      const conn = new WsConnection(randomUUID(), ws, socket, voter, pollParam === null);
      ws.conn = conn;
      conns.add(conn);
      welcome(conn, pollParam, known).catch((err: unknown) => failed(conn, err, true));
      ws.on('message', onSocketMessage);
      ws.on('pong', onSocketPong);
      ws.on('error', onSocketError);
      ws.on('close', onSocketClose);
    });
  });

  // One listener of each kind for every socket of this gateway (ws calls them with the socket as `this`), instead
  // of four closures and their scope per connection: an idle connection's JS heap holds only what it must.
  function onSocketMessage(this: GatewaySocket, data: WebSocket.RawData, isBinary: boolean): void {
    const conn = this.conn as WsConnection;
    onMessage(conn, data, isBinary).catch((err: unknown) => failed(conn, err, false));
  }
  function onSocketPong(this: GatewaySocket): void {
    (this.conn as WsConnection).alive = true;
  }
  function onSocketError(this: GatewaySocket): void {
    this.terminate();
  }
  function onSocketClose(this: GatewaySocket): void {
    const conn = this.conn as WsConnection;
    conns.delete(conn);
    o.hub.leaveAll(conn);
  }

  async function welcome(conn: WsConnection, pollParam: string | null, known?: number): Promise<void> {
    // The original client connects with only ?emp_no= and expects today's lunch tally (of the web workspace).
    const pollId = pollParam ?? (await todaysLunchPoll(o.polls, WEB_WORKSPACE));
    // Closed while the store answered: its close handler has run, so a join now would never be undone.
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    const online = pollId ? o.hub.join(conn, pollId) : 0;
    if (pollId) conn.polls.add(pollId);
    conn.write(
      frame({
        type: 'connection_ack',
        data: {
          emp_no: conn.voter?.emp_no ?? null,
          connection_id: conn.id,
          server_time: new Date().toISOString(),
          online_count: online,
        },
      }),
    );
    if (pollId && !(await o.hub.sendCurrent(conn, pollId, known))) {
      conn.polls.delete(pollId);
      conn.write(errorFrame('unknown_poll', `No poll "${pollId}".`));
    }
  }

  async function onMessage(conn: WsConnection, data: unknown, isBinary: boolean): Promise<void> {
    let msg: ClientFrame | undefined;
    if (!conn.allow()) return reject(conn, 'rate_limited', 'Too many messages; slow down.');
    if (!isBinary) {
      try {
        const parsed = clientFrameSchema.safeParse(JSON.parse(String(data)));
        if (parsed.success) msg = parsed.data;
      } catch {
        // not JSON: handled below
      }
    }
    if (!msg) {
      return reject(
        conn,
        'invalid_frame',
        'Frames are JSON {type, data}: ping, subscribe, unsubscribe, resync or voting.',
      );
    }
    switch (msg.type) {
      case 'ping':
        conn.write(frame({ type: 'pong', data: { server_time: new Date().toISOString() } }));
        return;
      case 'subscribe': {
        const { poll_id, version } = msg.data;
        if (!conn.polls.has(poll_id) && conn.polls.size >= MAX_SUBSCRIPTIONS) {
          return reject(conn, 'too_many_subscriptions', `At most ${MAX_SUBSCRIPTIONS} polls per connection.`);
        }
        conn.polls.add(poll_id);
        o.hub.join(conn, poll_id);
        if (!(await o.hub.sendCurrent(conn, poll_id, version))) {
          conn.polls.delete(poll_id);
          conn.write(errorFrame('unknown_poll', `No poll "${poll_id}".`));
        }
        return;
      }
      case 'unsubscribe':
        conn.polls.delete(msg.data.poll_id);
        o.hub.leave(conn, msg.data.poll_id);
        return;
      case 'resync':
        if (!conn.polls.has(msg.data.poll_id))
          return reject(conn, 'not_subscribed', 'Subscribe to the poll first.');
        if (!(await o.hub.resync(conn, msg.data.poll_id)))
          conn.write(errorFrame('unknown_poll', 'No such poll.'));
        return;
      case 'voting':
        if (!conn.voter)
          return reject(conn, 'read_only', 'Viewers cannot vote; connect with emp_no or a token.');
        o.hub.voting(conn, msg.data.poll_id);
        return;
    }
  }

  function reject(conn: WsConnection, code: string, message: string): void {
    conn.write(errorFrame(code, message));
    if (conn.strike()) conn.ws.close(1008, 'too many invalid frames');
  }

  const heartbeat = setInterval(() => {
    for (const c of conns) {
      if (!c.alive) {
        c.ws.terminate();
        continue;
      }
      c.alive = false;
      c.ws.ping();
    }
  }, o.heartbeatMs ?? 30_000);
  heartbeat.unref();

  return {
    connections: () => conns.size,
    async close(code = 1012, reason = 'server restarting') {
      clearInterval(heartbeat);
      const closing = [...conns].map(
        (c) =>
          new Promise<void>((resolve) => {
            c.ws.once('close', () => resolve());
            c.ws.close(code, reason);
            setTimeout(() => {
              c.ws.terminate();
              resolve();
            }, 2_000).unref();
          }),
      );
      await Promise.all(closing);
      wss.close();
    },
  };
}
