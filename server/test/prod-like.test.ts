// Fault test on the production-like stack (2 realtime + 1 bot processes behind the local proxy, real Postgres and
// Redis): a realtime process is stopped mid-session and its clients carry on through the other one.
import type { ServerFrame } from '@livevote/core/protocol';
import {
  createTestDatabase,
  TEST_ANONYMITY_KEY,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
} from '@livevote/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { exited, type ProdLike, startProdLike } from '../dev/prod-like.ts';

let db: TestDatabase;
let stack: ProdLike;
const logs: string[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
  stack = await startProdLike({
    databaseUrl: db.url,
    redisUrl: TEST_REDIS_URL,
    redisPrefix: testPrefix(),
    adminToken: 'prod-like-test-admin-0123456789',
    anonymityKey: TEST_ANONYMITY_KEY,
    web: false,
    env: { LOG_LEVEL: 'warn', TEAMS_ALLOW_UNAUTHENTICATED: 'true' },
    onLog: (name, line) => logs.push(`${name} ${line}`),
  });
}, 180_000);
afterAll(async () => {
  await stack?.stop();
  await db?.drop();
});

class Client {
  frames: ServerFrame[] = [];
  closeCode?: number;
  ws!: WebSocket;
  constructor(private readonly url: string) {}
  async connect(): Promise<this> {
    this.closeCode = undefined;
    this.ws = new WebSocket(this.url);
    this.ws.on('message', (m) => this.frames.push(JSON.parse(String(m)) as ServerFrame));
    this.ws.on('close', (code) => {
      this.closeCode = code;
    });
    await new Promise((resolve, reject) => {
      this.ws.once('open', resolve);
      this.ws.once('error', reject);
    });
    return this;
  }
  newestVersion(): number {
    const updates = this.frames.filter((f) => f.type === 'vote_update');
    return Math.max(-1, ...updates.map((f) => (f.type === 'vote_update' ? f.data.version : -1)));
  }
}

const vote = (emp: string, place: string) =>
  fetch(`${stack.url}/api/polls/lunch-demo/votes?emp_no=${emp}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ question_id: 'place', option_ids: [place] }),
  });

describe('production-like stack', () => {
  it('serves the API and the chat endpoint through the proxy from the right roles', async () => {
    expect((await fetch(`${stack.url}/readyz`)).status).toBe(200);
    expect((await vote('7001', 'p1')).status).toBe(200);
    // Teams webhooks are routed to the bot process: only it mounts /api/messages (a realtime process answers 404);
    // unauthenticated local-development mode here, so an empty activity is accepted.
    const teams = await fetch(`${stack.url}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(teams.status).toBe(200);
    const realtimePort = stack.processes.get('realtime-1')?.port;
    const direct = await fetch(`http://127.0.0.1:${realtimePort}/api/messages`, {
      method: 'POST',
      body: '{}',
    });
    expect(direct.status).toBe(404);
  });

  it('moves clients of a stopped realtime process to the other one, and no vote is lost', async () => {
    const ws = `${stack.url.replace('http', 'ws')}/ws/votes?poll_id=lunch-demo&emp_no=`;
    // Round-robin: four connections in a row land two on each realtime process.
    const clients: Client[] = [];
    for (let i = 0; i < 4; i++) clients.push(await new Client(`${ws}${7100 + i}`).connect());
    await expect.poll(() => clients.every((c) => c.newestVersion() >= 0)).toBe(true);

    const victim = stack.processes.get('realtime-1');
    victim?.child.kill('SIGTERM');
    expect(await exited(victim?.child as NonNullable<typeof victim>['child'])).toBe(0);
    const moved = clients.filter((c) => c.closeCode !== undefined);
    expect(moved.map((c) => c.closeCode)).toEqual([1012, 1012]); // "service restart": reconnect elsewhere

    // Votes keep going through the proxy while the clients reconnect, as a browser would, to the survivor.
    const accepted = await Promise.all(Array.from({ length: 10 }, (_, i) => vote(`72${i}`, 'p2')));
    expect(accepted.map((r) => r.status)).toEqual(Array(10).fill(200));
    for (const c of moved) await c.connect();
    const last = (await (await vote('7300', 'p3')).json()) as { version: number };
    for (const c of clients) await expect.poll(() => c.newestVersion()).toBeGreaterThanOrEqual(last.version);

    const stats = (await (await fetch(`${stack.url}/api/votes/stats?poll_id=lunch-demo`)).json()) as {
      place_votes: { place_id: string; vote_count: number }[];
    };
    const count = (id: string) => stats.place_votes.find((p) => p.place_id === id)?.vote_count;
    expect([count('p1'), count('p2'), count('p3')]).toEqual([1, 10, 1]);
    for (const c of clients) c.ws.close();
  });
});
