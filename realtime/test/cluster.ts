// Test support: realtime instances in this process sharing one Postgres database and one Redis, like a deployment.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createCore, createPgStore, RedisBus, type Store } from '@livevote/core';
import type { PresenceCounts, ServerFrame, Snapshot } from '@livevote/core/protocol';
import { TEST_ANONYMITY_KEY } from '@livevote/core/testing';
import { Redis } from 'ioredis';
import pg from 'pg';
import WebSocket from 'ws';
import { Hub } from '../src/fanout/hub.ts';
import { createHttpApp } from '../src/http/app.ts';
import { attachWebSocket } from '../src/ws/ws-gateway.ts';

export const ADMIN = 'cluster-admin-token-0123456789';

export interface Instance {
  url: string;
  ws: string;
  store: Store;
  hub: Hub;
  bus: RedisBus;
  stop(): Promise<void>;
}

export async function startInstance(dbUrl: string, redisUrl: string, prefix: string): Promise<Instance> {
  const pool = new pg.Pool({ connectionString: dbUrl, max: 8 });
  const store = await createPgStore(pool, { anonymityKey: TEST_ANONYMITY_KEY });
  const redis = [0, 1].map(() => {
    const r = new Redis(redisUrl, { maxRetriesPerRequest: 1, retryStrategy: () => 100 });
    r.on('error', () => {}); // outages are part of these tests
    return r;
  }) as [Redis, Redis];
  const bus = new RedisBus(redis[0], redis[1], prefix);
  await bus.start();
  const core = createCore(store, bus);
  const hub = new Hub({ polls: store, bus, events: core.events, sweepMs: 1_000 });
  hub.start();
  const auth = { mode: 'open' as const, adminToken: ADMIN };
  const log = { info() {}, warn() {}, error() {} };
  const server = createServer(createHttpApp({ core, auth, log, hub }));
  const gateway = attachWebSocket(server, { hub, polls: store, auth, log, heartbeatMs: 1_000 });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    ws: `ws://127.0.0.1:${port}/ws/votes`,
    store,
    hub,
    bus,
    async stop() {
      await gateway.close();
      hub.stop();
      core.events.stop();
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      for (const r of redis) r.disconnect();
      await pool.end();
    },
  };
}

/** A WebSocket client that records every frame and keeps the newest snapshot per poll, as a real client would. */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  readonly raw: string[] = [];
  readonly latest = new Map<string, Snapshot>();
  /** The newest audience per poll, from a presence frame or a vote_update carrying one. */
  readonly presence = new Map<string, PresenceCounts>();
  closed?: { code: number; reason: string };
  private constructor(readonly ws: WebSocket) {
    ws.on('message', (d) => {
      const text = String(d);
      this.raw.push(text);
      const f = JSON.parse(text) as ServerFrame;
      this.frames.push(f);
      if (f.type === 'vote_update') {
        const have = this.latest.get(f.data.poll_id);
        if (!have || f.data.version > have.version) this.latest.set(f.data.poll_id, f.data);
        if (f.data.presence) this.presence.set(f.data.poll_id, f.data.presence);
      } else if (f.type === 'presence') {
        const { poll_id, ...counts } = f.data;
        this.presence.set(poll_id, counts);
      }
    });
    ws.on('close', (code, reason) => {
      this.closed = { code, reason: String(reason) };
    });
    ws.on('error', () => {});
  }

  static async open(url: string): Promise<TestClient> {
    const ws = new WebSocket(url);
    const c = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once('open', () => resolve());
      ws.once('error', reject);
    });
    return c;
  }

  send(type: string, data?: unknown): void {
    this.ws.send(JSON.stringify(data === undefined ? { type } : { type, data }));
  }

  of<T extends ServerFrame['type']>(type: T): Extract<ServerFrame, { type: T }>[] {
    return this.frames.filter((f): f is Extract<ServerFrame, { type: T }> => f.type === type);
  }

  close(): void {
    this.ws.close();
  }
}

export const post = (url: string, body: unknown, headers: Record<string, string> = {}) =>
  fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });

export async function createLunchPoll(base: string, settings: Record<string, unknown> = {}): Promise<string> {
  const res = await post(
    `${base}/api/polls`,
    {
      template: 'lunch',
      places: [
        { name: '김밥천국', menus: [{ name: '라볶이' }] },
        { name: '본죽', menus: [{ name: '전복죽' }] },
        { name: '명동교자', menus: [{ name: '칼국수' }] },
      ],
      settings,
    },
    { authorization: `Bearer ${ADMIN}` },
  );
  if (res.status !== 201) throw new Error(`create poll: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { poll: { id: string } }).poll.id;
}

export const vote = (
  base: string,
  pollId: string,
  emp: string | number,
  option: string,
  question = 'place',
) => post(`${base}/api/polls/${pollId}/votes?emp_no=${emp}`, { question_id: question, option_ids: [option] });
