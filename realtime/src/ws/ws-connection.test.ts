// WsConnection on a real ws server. Besides the wrapper's own rules (back-pressure, token bucket, strikes) this pins
// down what it assumes about ws: that Sender.frame builds exactly the bytes ws.send writes, and that ws writes
// synchronously so raw writes to the upgrade socket interleave with ws.send / ws.ping in call order. A ws upgrade
// that breaks either assumption fails here.
import { randomBytes } from 'node:crypto';
import { EventEmitter, once } from 'node:events';
import { createServer, type Server } from 'node:http';
import { type AddressInfo, connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket, { Sender, WebSocketServer } from 'ws';
import { PreparedFrame } from '../fanout/prepared-frame.ts';
import { HIGH_WATER, WsConnection } from './ws-connection.ts';

interface Accepted {
  ws: WebSocket;
  socket: Duplex;
  conn: WsConnection;
}

let server: Server;
let port: number;
/** Emits 'accepted' with the server side of every connection. */
const acceptor = new EventEmitter();
let connections = 0;
const clients: { close(): void }[] = [];

beforeAll(async () => {
  // Configured as the gateway configures it: no compression, so ws writes every frame at once.
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false, clientTracking: false });
  server = createServer();
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    wss.handleUpgrade(req, socket, head, (ws) => {
      const side: Accepted = { ws, socket, conn: new WsConnection(`c${connections++}`, ws, socket, null) };
      acceptor.emit('accepted', side);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  for (const c of clients) c.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

afterEach(() => {
  vi.useRealTimers();
});

/** The server side of the next connection (call before connecting: one client at a time). */
async function nextAccepted(): Promise<Accepted> {
  const [side] = await once(acceptor, 'accepted');
  return side as Accepted;
}

/** A plain TCP client that does the upgrade by hand and records every byte after it, as sent. */
async function rawClient() {
  const accepting = nextAccepted();
  const socket: Socket = connect(port, '127.0.0.1');
  clients.push({ close: () => socket.destroy() });
  let head = Buffer.alloc(0);
  const chunks: Buffer[] = [];
  let upgraded = false;
  const response = new Promise<string>((resolve) => {
    socket.on('data', (d: Buffer) => {
      if (upgraded) {
        chunks.push(d);
        return;
      }
      head = Buffer.concat([head, d]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      upgraded = true;
      if (end + 4 < head.length) chunks.push(head.subarray(end + 4));
      resolve(head.subarray(0, end).toString());
    });
  });
  socket.write(
    'GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\n\r\n`,
  );
  const side = await accepting;
  const status = await response;
  if (!status.startsWith('HTTP/1.1 101 ')) throw new Error(`upgrade refused: ${status}`);
  return {
    client: socket,
    ...side,
    received: () => Buffer.concat(chunks),
    receivedLength: () => chunks.reduce((n, c) => n + c.length, 0),
  };
}

/** A real ws client that records, in order, the text messages and pings it receives. */
async function wsClient() {
  const accepting = nextAccepted();
  const client = new WebSocket(`ws://127.0.0.1:${port}/`);
  clients.push(client);
  const events: string[] = [];
  client.on('message', (data, isBinary) => events.push(isBinary ? '<binary>' : String(data)));
  client.on('ping', () => events.push('<ping>'));
  client.on('close', (code) => events.push(`<close ${code}>`));
  await once(client, 'open');
  return { client, events, ...(await accepting) };
}

const text = (message: string): PreparedFrame =>
  new PreparedFrame({ type: 'error', data: { code: 'x', message } });

describe('WsConnection: what it relies on in ws', () => {
  it.each([10, 200, 70_000])(
    'Sender.frame, ws.send, deliver and write put the same bytes on the wire (%i-character text)',
    async (size) => {
      const c = await rawClient();
      const f = text('m'.repeat(size));
      const framed = Buffer.concat(
        Sender.frame(Buffer.from(f.json), { fin: true, rsv1: false, opcode: 1, mask: false, readOnly: true }),
      );
      expect(f.wsFrame.equals(framed)).toBe(true);
      c.ws.send(f.json);
      expect(c.conn.deliver([f])).toBe(true);
      c.conn.write(f);
      await expect.poll(() => c.receivedLength()).toBe(3 * framed.length);
      const wire = c.received();
      expect(wire.subarray(0, framed.length).equals(framed)).toBe(true); // what ws.send wrote
      expect(wire.equals(Buffer.concat([framed, framed, framed]))).toBe(true);
    },
  );

  it('interleaves raw frames with ws.send and ws.ping in call order, and the ping is answered', async () => {
    const c = await wsClient();
    const pong = once(c.ws, 'pong');
    const b = text('B');
    const [d1, d2] = [text('D1'), text('D2')];
    c.ws.send('a');
    expect(c.conn.deliver([b])).toBe(true);
    c.ws.send('c');
    c.ws.ping();
    expect(c.conn.deliver([d1, d2])).toBe(true); // several frames joined into one write
    c.conn.write(text('E'));
    c.ws.send('f');
    await expect.poll(() => c.events.length).toBe(8);
    expect(c.events).toEqual(['a', b.json, 'c', '<ping>', d1.json, d2.json, text('E').json, 'f']);
    await pong;
  });

  it('skips a client whose socket is backed up, and reports it drained once it has read', async () => {
    const c = await rawClient();
    c.client.pause(); // stops reading: the server's writes pile up in the kernel, then in the socket
    const big = text('x'.repeat(64 * 1024));
    let taken = 0;
    while (taken < 100_000 && c.conn.deliver([big])) taken++;
    expect(c.ws.bufferedAmount).toBeGreaterThan(HIGH_WATER);
    expect(c.conn.drained()).toBe(false);
    const buffered = c.ws.bufferedAmount;
    expect(c.conn.deliver([big])).toBe(false);
    expect(c.ws.bufferedAmount).toBe(buffered); // skipped, not queued
    c.client.resume();
    await expect.poll(() => c.conn.drained()).toBe(true);
    expect(c.conn.deliver([text('caught up')])).toBe(true);
    const total = taken * big.wsFrame.length + text('caught up').wsFrame.length;
    await expect.poll(() => c.receivedLength()).toBe(total); // nothing lost or duplicated on the way
  });

  it('writes nothing once ws has sent its close frame, and asks for no catch-up', async () => {
    const c = await rawClient();
    c.ws.close(1000);
    expect(c.ws.readyState).toBe(WebSocket.CLOSING);
    const write = vi.spyOn(c.socket, 'write');
    expect(c.conn.deliver([text('late')])).toBe(true);
    c.conn.write(text('late'));
    expect(write).not.toHaveBeenCalled();
    expect(c.conn.drained()).toBe(true);
    // The close frame is the last thing on the wire: 1000, no reason.
    await expect.poll(() => c.receivedLength()).toBe(4);
    expect([...c.received()]).toEqual([0x88, 0x02, 0x03, 0xe8]);
  });
});

describe('WsConnection: client limits', () => {
  let conn: () => WsConnection;
  beforeAll(async () => {
    const c = await wsClient();
    // A fresh wrapper per test over one live socket: the limits only read the clock.
    conn = () => new WsConnection('limits', c.ws, c.socket, null);
  });

  it('allows bursts of 40 frames, then 20 per second', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const c = conn();
    for (let i = 0; i < 40; i++) expect(c.allow()).toBe(true);
    expect(c.allow()).toBe(false);
    vi.advanceTimersByTime(50); // one token
    expect(c.allow()).toBe(true);
    expect(c.allow()).toBe(false);
    vi.advanceTimersByTime(1_000);
    for (let i = 0; i < 20; i++) expect(c.allow()).toBe(true);
    expect(c.allow()).toBe(false);
  });

  it('banks no more than a burst of 40 however long the client was quiet', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const c = conn();
    for (let i = 0; i < 40; i++) c.allow();
    vi.advanceTimersByTime(60_000);
    for (let i = 0; i < 40; i++) expect(c.allow()).toBe(true);
    expect(c.allow()).toBe(false);
  });

  it('closes on the 5th bad frame within a minute', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const c = conn();
    for (let i = 0; i < 4; i++) {
      expect(c.strike()).toBe(false);
      vi.advanceTimersByTime(14_999);
    }
    expect(c.strike()).toBe(true); // 4 × 14.999 s: the first is still within the minute
  });

  it('forgets bad frames older than a minute', () => {
    vi.useFakeTimers({ toFake: ['performance'] });
    const c = conn();
    for (let i = 0; i < 4; i++) expect(c.strike()).toBe(false);
    vi.advanceTimersByTime(60_000);
    for (let i = 0; i < 4; i++) expect(c.strike()).toBe(false); // the first four expired
    expect(c.strike()).toBe(true);
  });
});
