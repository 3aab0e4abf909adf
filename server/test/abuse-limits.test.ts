// Abuse limits on whole processes: two instances sharing Postgres and Redis (as behind a load balancer, TRUST_PROXY=1
// so each test can speak from its own client address), and one with ABUSE_LIMITS=off. One voter hammering is cut to
// the limit; a whole office behind one address is not; connections and poll creation are counted per address, once
// for every instance.
import { createCore, createPgStore, createPoll, MemoryBus } from '@livevote/core';
import {
  createTestDatabase,
  TEST_ANONYMITY_KEY,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
} from '@livevote/core/testing';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { parseConfig } from '../src/config.ts';
import { type Running, start } from '../src/start.ts';

const ADMIN = 'abuse-test-admin-token-0123456789';
/** Test limits: 1 vote change a minute plus a burst of 19 = 20 in a minute; 5 connections, 3 polls a minute. */
const VOTES_PER_WINDOW = 20;
const CONNECTS = 5;
const POLLS = 3;

let db: TestDatabase;
let pool: pg.Pool;
let a: Running;
let b: Running;
let off: Running;
let pollId: string;

const boot = (env: Record<string, string>) =>
  start(
    parseConfig({
      PORT: '0',
      HOST: '127.0.0.1',
      DATABASE_URL: db.url,
      ANONYMITY_KEY: TEST_ANONYMITY_KEY,
      DATABASE_POOL_SIZE: '8',
      REDIS_URL: TEST_REDIS_URL,
      ADMIN_TOKEN: ADMIN,
      SEED_DEMO: 'false',
      LOG_LEVEL: 'silent',
      WEB_APP: 'off',
      TRUST_PROXY: '1',
      ...env,
    }),
    pino({ level: 'silent' }),
  );

beforeAll(async () => {
  db = await createTestDatabase();
  const limited = {
    REDIS_PREFIX: testPrefix(),
    VOTE_LIMIT_PER_MINUTE: '1',
    VOTE_LIMIT_BURST: String(VOTES_PER_WINDOW - 1),
    WS_CONNECT_LIMIT_PER_MINUTE: String(CONNECTS),
    POLL_CREATE_LIMIT_PER_MINUTE: String(POLLS),
  };
  a = await boot(limited);
  b = await boot(limited);
  off = await boot({ ...limited, REDIS_PREFIX: testPrefix(), ABUSE_LIMITS: 'off' });
  // The poll the votes go to, made beside the servers so no test spends an address's poll allowance on it.
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  const core = createCore(await createPgStore(pool, { anonymityKey: TEST_ANONYMITY_KEY }), new MemoryBus());
  const created = await createPoll(
    core,
    { template: 'choice', title: 'Lunch', options: ['Pizza', 'Sushi'] },
    { kind: 'admin' },
  );
  if (!created.ok) throw new Error(created.message);
  pollId = created.value.poll.id;
  core.events.stop();
}, 120_000);
afterAll(async () => {
  await Promise.all([a, b, off].map((r) => r?.stop()));
  await pool?.end();
  await db?.drop();
});

/** A vote from `emp` through a proxy that saw the client at `from`. */
const vote = (base: Running, emp: string | number, option: string, from = '203.0.113.1') =>
  fetch(`${base.url}/api/polls/${pollId}/votes?emp_no=${emp}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': from },
    body: JSON.stringify({ question_id: 'q1', option_ids: [option] }),
  });

const newPoll = (base: Running, from: string) =>
  fetch(`${base.url}/api/polls`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      authorization: `Bearer ${ADMIN}`,
      'x-forwarded-for': from,
    },
    body: JSON.stringify({ template: 'choice', title: 'Outing', options: ['Bowling', 'Karaoke'] }),
  });

/** Opens a WebSocket from `from`: 'open', or the HTTP status and Retry-After it was refused with. */
function connect(
  base: Running,
  from: string,
): Promise<{ ws?: WebSocket; status: number; retryAfter?: string }> {
  const ws = new WebSocket(`${base.url.replace('http', 'ws')}/ws/votes?poll_id=${pollId}`, {
    headers: { 'x-forwarded-for': from },
  });
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve({ ws, status: 101 }));
    ws.once('unexpected-response', (_req, res) => {
      const retryAfter = res.headers['retry-after'];
      resolve({ status: res.statusCode ?? 0, ...(retryAfter ? { retryAfter } : {}) });
      ws.terminate();
    });
    ws.once('error', reject);
  });
}

/** Fixed one-minute windows: a run that took longer than one may fairly have been allowed once more per window. */
const windows = (startedAt: number) => Math.floor((performance.now() - startedAt) / 60_000) + 1;

describe('abuse limits', () => {
  it('cuts 10,000 rapid changes from one voter to the limit, with 429 and Retry-After for the rest', async () => {
    const startedAt = performance.now();
    const statuses = new Map<number, number>();
    const retryAfters = new Set<string | null>();
    const codes = new Set<string>();
    let next = 0;
    await Promise.all(
      Array.from({ length: 32 }, async () => {
        while (next < 10_000) {
          const i = next++;
          const res = await vote(a, 4242, i % 2 ? 'o1' : 'o2');
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (res.status === 429) {
            retryAfters.add(res.headers.get('retry-after'));
            codes.add(((await res.json()) as { error: { code: string } }).error.code);
          } else await res.arrayBuffer();
        }
      }),
    );
    const ok = statuses.get(200) ?? 0;
    expect(ok).toBeGreaterThanOrEqual(VOTES_PER_WINDOW);
    expect(ok).toBeLessThanOrEqual(VOTES_PER_WINDOW * windows(startedAt));
    expect(statuses.get(429)).toBe(10_000 - ok);
    expect(codes).toEqual(new Set(['rate_limited']));
    for (const s of retryAfters) expect(Number(s)).toBeGreaterThanOrEqual(1);
  }, 180_000);

  it('lets 200 distinct voters from one address through at once', async () => {
    const responses = await Promise.all(
      Array.from({ length: 200 }, (_, i) => vote(i % 2 ? a : b, 60_000 + i, 'o1', '198.51.100.200')),
    );
    expect(responses.map((r) => r.status)).toEqual(Array(200).fill(200));
  });

  it('counts one voter once across instances sharing Redis', async () => {
    const startedAt = performance.now();
    let ok = 0;
    for (let i = 0; i < 2 * VOTES_PER_WINDOW + 10; i++) {
      const res = await vote(i % 2 ? a : b, 5151, i % 4 < 2 ? 'o1' : 'o2');
      if (res.status === 200) ok++;
      else expect(res.status).toBe(429);
    }
    // Each instance counting alone would have let twice as many through.
    expect(ok).toBeGreaterThanOrEqual(VOTES_PER_WINDOW);
    expect(ok).toBeLessThanOrEqual(VOTES_PER_WINDOW * windows(startedAt));
  });

  it('refuses new WebSockets from one address past the limit with 429, on every instance', async () => {
    const from = '192.0.2.10';
    const opened = [];
    for (let i = 0; i < CONNECTS; i++) opened.push(await connect(i % 2 ? a : b, from));
    expect(opened.map((c) => c.status)).toEqual(Array(CONNECTS).fill(101));
    for (const base of [a, b]) {
      const refused = await connect(base, from);
      expect(refused.status).toBe(429);
      expect(Number(refused.retryAfter)).toBeGreaterThanOrEqual(1);
    }
    // The address is the one the proxy saw: what the client wrote in front of it changes nothing.
    expect((await connect(a, `192.0.2.99, ${from}`)).status).toBe(429);
    const other = await connect(a, '192.0.2.11');
    expect(other.status).toBe(101);
    for (const c of [...opened, other]) c.ws?.close();
  });

  it('limits poll creation per address', async () => {
    const from = '192.0.2.20';
    const created = [];
    for (let i = 0; i < POLLS; i++) created.push((await newPoll(i % 2 ? a : b, from)).status);
    expect(created).toEqual(Array(POLLS).fill(201));
    const refused = await newPoll(a, from);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(await refused.json()).toEqual({
      error: { code: 'rate_limited', message: expect.stringContaining('polls created') },
    });
    expect((await newPoll(b, '192.0.2.21')).status).toBe(201);
  });

  it('lets everything through with ABUSE_LIMITS=off', async () => {
    const votes = await Promise.all(
      Array.from({ length: 60 }, (_, i) => vote(off, 7777, i % 2 ? 'o1' : 'o2')),
    );
    expect(votes.map((r) => r.status)).toEqual(Array(60).fill(200));
    const sockets = await Promise.all(Array.from({ length: 2 * CONNECTS }, () => connect(off, '192.0.2.30')));
    expect(sockets.map((c) => c.status)).toEqual(Array(2 * CONNECTS).fill(101));
    for (const c of sockets) c.ws?.close();
    const polls = [];
    for (let i = 0; i < 2 * POLLS; i++) polls.push((await newPoll(off, '192.0.2.31')).status);
    expect(polls).toEqual(Array(2 * POLLS).fill(201));
  });
});
