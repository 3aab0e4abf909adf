// Operations of a whole process on the real Postgres and Redis: /readyz with the archive's state, /metrics, the
// idempotency purge, parked outbox rows and `livevote outbox-retry`, and the drain on shutdown (WebSocket close
// 1012, outbox flushed). The archive is the in-memory one: no MongoDB runs here.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createPgStore, MemoryArchive, pgDriver, SqlInstallationStore } from '@livevote/core';
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

const ADMIN = 'ops-test-admin-token-0123456789';
let db: TestDatabase;
let app: Running;
let pool: pg.Pool;
const archive = new MemoryArchive();
const sql = async <R = Record<string, unknown>>(text: string, params?: unknown[]) =>
  (await pool.query(text, params)).rows as R[];

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await createPgStore(pool, { anonymityKey: TEST_ANONYMITY_KEY }); // the schema, so keys can be planted before the app starts and purges
  await sql(
    `insert into idempotency (voter_key, key, poll_id, fingerprint, outcome, created_at) values
       ('emp:1', 'three-hours-old', 'p', 'f', '{}', now() - interval '3 hours'),
       ('emp:1', 'one-hour-old', 'p', 'f', '{}', now() - interval '1 hour')`,
  );
  const config = parseConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    DATABASE_URL: db.url,
    ANONYMITY_KEY: TEST_ANONYMITY_KEY,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: testPrefix(),
    ADMIN_TOKEN: ADMIN,
    SEED_DEMO: 'false',
    LOG_LEVEL: 'silent',
    WEB_APP: 'off',
    IDEMPOTENCY_TTL_HOURS: '2',
  });
  app = await start(config, pino({ level: 'silent' }), { archive });
});
afterAll(async () => {
  await app?.stop();
  await pool?.end();
  await db?.drop();
});

const api = (path: string, init: RequestInit = {}) => fetch(`${app.url}${path}`, init);
const json = (body: unknown, headers: Record<string, string> = {}) => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

async function newPoll(): Promise<string> {
  const res = await api(
    '/api/polls',
    json(
      { template: 'choice', title: 'Ops', options: ['Pho', 'Bibimbap'] },
      { authorization: `Bearer ${ADMIN}` },
    ),
  );
  expect(res.status).toBe(201);
  return ((await res.json()) as { poll: { id: string } }).poll.id;
}
const vote = (pollId: string, emp: string, optionId: string, headers: Record<string, string> = {}) =>
  api(
    `/api/polls/${pollId}/votes?emp_no=${emp}`,
    json({ question_id: 'q1', option_ids: [optionId] }, headers),
  );

/** Runs the CLI as an operator would, against this test's database. */
function livevote(...args: string[]): Promise<{ code: number | null; out: string }> {
  return livevoteWith({}, ...args);
}

function livevoteWith(
  env: Record<string, string>,
  ...args: string[]
): Promise<{ code: number | null; out: string }> {
  const main = fileURLToPath(new URL('../src/main.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], {
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      DATABASE_URL: db.url,
      ANONYMITY_KEY: TEST_ANONYMITY_KEY,
      LOG_LEVEL: 'silent',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr.on('data', (d: Buffer) => {
    out += d.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, out })));
}

const ACCEPTED = 'livevote_votes_total{outcome="accepted"}';
function metric(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{`));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

describe('operations', () => {
  it('stays ready but says "degraded" while the archive is down', async () => {
    const up = await api('/readyz');
    expect(up.status).toBe(200);
    expect(await up.json()).toEqual({ status: 'ready', checks: { store: 'up', bus: 'up', archive: 'up' } });
    archive.down = new Error('connection refused');
    try {
      const down = await api('/readyz');
      expect(down.status).toBe(200);
      expect(await down.json()).toMatchObject({ status: 'degraded', checks: { archive: 'down' } });
      // Votes don't notice.
      const pollId = await newPoll();
      expect((await vote(pollId, '4001', 'o1')).status).toBe(200);
    } finally {
      archive.down = null;
    }
  });

  it('exposes connections, votes, frames, fan-out latency and the outbox on /metrics', async () => {
    const pollId = await newPoll();
    const ws = new WebSocket(`${app.url.replace('http', 'ws')}/ws/votes?emp_no=4002&poll_id=${pollId}`);
    const updates: unknown[] = [];
    ws.on('message', (m) => updates.push(JSON.parse(String(m))));
    await new Promise((r) => ws.once('open', r));
    try {
      await expect.poll(() => updates.length).toBeGreaterThan(0);
      const accepted = async () => metric(await (await api('/metrics')).text(), ACCEPTED);
      const before = await accepted();
      await vote(pollId, '4002', 'o2');
      expect((await vote(pollId, '4002', 'o9')).status).toBe(422); // refused (unknown option): not counted
      await expect.poll(() => updates.length).toBeGreaterThan(1);
      expect(await accepted()).toBe((Number.isNaN(before) ? 0 : before) + 1);
      const res = await api('/metrics');
      expect(res.headers.get('content-type')).toContain('text/plain');
      const text = await res.text();
      expect(metric(text, 'livevote_ws_connections')).toBe(1);
      expect(metric(text, 'livevote_frames_sent_total')).toBeGreaterThanOrEqual(2);
      expect(metric(text, 'livevote_fanout_latency_seconds_count')).toBeGreaterThanOrEqual(1);
      expect(metric(text, 'livevote_outbox_pending')).toBeGreaterThanOrEqual(0);
      expect(metric(text, 'livevote_chat_update_queue')).toBe(0);
      // Per destination: no chat message here, so the counters are declared without a sample yet.
      for (const name of ['sent', 'retried', 'dropped', 'rate_limited'])
        expect(text).toContain(`# TYPE livevote_chat_${name}_total counter`);
      expect(text).toContain('livevote_process_resident_memory_bytes');
    } finally {
      ws.close();
    }
  });

  it('delivers the audit log to the archive', async () => {
    const pollId = await newPoll();
    await vote(pollId, '4003', 'o1');
    await expect
      .poll(async () => (await archive.auditOf(pollId)).map((e) => e.type))
      .toEqual(['poll_created', 'vote']);
  });

  it('expires idempotency keys after IDEMPOTENCY_TTL_HOURS and purges them', async () => {
    // Planted before start: the purge that runs at start removes the key older than the TTL (2 h), only that one.
    await expect
      .poll(async () =>
        (await sql<{ key: string }>('select key from idempotency where voter_key = $1', ['emp:1'])).map(
          (r) => r.key,
        ),
      )
      .toEqual(['one-hour-old']);

    const pollId = await newPoll();
    const key = { 'idempotency-key': 'ops-click-1' };
    expect((await vote(pollId, '4005', 'o1', key)).status).toBe(200);
    expect((await vote(pollId, '4005', 'o2', key)).status).toBe(422); // reused for another choice
    await sql(`update idempotency set created_at = now() - interval '3 hours' where key = $1`, [
      'ops-click-1',
    ]);
    const later = await vote(pollId, '4005', 'o2', key);
    expect(later.status).toBe(200);
    expect(later.headers.get('idempotent-replayed')).not.toBe('true');
  });

  it('counts parked outbox rows on /metrics, and `livevote outbox-retry` sends them again', async () => {
    const parked = () => api('/metrics').then(async (r) => metric(await r.text(), 'livevote_outbox_parked'));
    expect(await parked()).toBe(0);
    const pollId = await newPoll();
    // What the drainer leaves after MongoDB refused a row ten times on its own.
    const [row] = await sql<{ id: string }>(
      `insert into outbox (kind, poll_id, doc, refusals, parked_at, last_error)
       values ('audit', $1,
         jsonb_build_object('type', 'option_added', 'poll_id', $1::text, 'at', now(), 'label', 'Naengmyeon'),
         10, now(), 'BSONObj size: 16793600 (0x1001000) is invalid')
       returning id`,
      [pollId],
    );
    expect(await parked()).toBe(1);
    const retried = await livevote('outbox-retry', String(row?.id));
    expect(retried).toMatchObject({ code: 0 });
    expect(retried.out).toContain('1 parked outbox row(s) queued for delivery again');
    await expect
      .poll(async () => (await archive.auditOf(pollId)).map((e) => [e.type, e.label]))
      .toEqual([
        ['poll_created', 'Ops'],
        ['option_added', 'Naengmyeon'],
      ]);
    expect(await parked()).toBe(0);
  });

  it('`livevote reseal-credentials` moves stored chat tokens to a new ENCRYPTION_KEY, naming any it cannot open', async () => {
    const [oldKey, newKey] = [
      'ops-old-encryption-key-0123456789-abcdef',
      'ops-new-encryption-key-0123456789-abcdef',
    ];
    const driver = pgDriver(pool);
    const install = (key: string, team: string) =>
      new SqlInstallationStore(driver, { encryptionKey: key }).saveInstallation({
        workspace: `slack:${team}`,
        platform: 'slack',
        installedBy: 'U0',
        credentials: { bot: { token: `xoxb-${team}` } },
      });
    await install(oldKey, 'TRESEAL1');
    await install(oldKey, 'TRESEAL2');
    const rotate = { ENCRYPTION_KEY: newKey, ENCRYPTION_KEY_PREVIOUS: oldKey };
    const first = await livevoteWith(rotate, 'reseal-credentials');
    expect(first).toMatchObject({ code: 0 });
    expect(first.out).toContain('2 installation(s) sealed again under ENCRYPTION_KEY, 0 already were');
    const fresh = new SqlInstallationStore(driver, { encryptionKey: newKey }); // the old key dropped
    expect((await fresh.installation('slack:TRESEAL2'))?.credentials).toEqual({
      bot: { token: 'xoxb-TRESEAL2' },
    });
    // One under a key the operator did not give: named, left alone, and the exit code says so.
    await install('ops-lost-encryption-key-0123456789-abcdef', 'TRESEAL3');
    const second = await livevoteWith(rotate, 'reseal-credentials');
    expect(second.code).toBe(65);
    expect(second.out).toContain('0 installation(s) sealed again under ENCRYPTION_KEY, 2 already were');
    expect(second.out).toContain('slack:TRESEAL3: credentials_other_key');
    expect((await livevoteWith({}, 'reseal-credentials')).code).toBe(78);
  });

  it('on stop: closes WebSockets with 1012 and flushes the outbox before exiting', async () => {
    const pollId = await newPoll();
    const ws = new WebSocket(`${app.url.replace('http', 'ws')}/ws/votes?emp_no=4004&poll_id=${pollId}`);
    const closed = new Promise<number>((r) => ws.once('close', (code) => r(code)));
    await new Promise((r) => ws.once('open', r));
    await app.drain?.stop(); // hold deliveries back so only the shutdown flush can deliver these
    await vote(pollId, '4004', 'o2');
    await api(`/api/polls/${pollId}/close`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    await app.stop();
    expect(await closed).toBe(1012);
    expect((await archive.auditOf(pollId)).map((e) => e.type)).toEqual([
      'poll_created',
      'vote',
      'poll_closed',
    ]);
    expect((await archive.archived(pollId))?.result.questions[0]?.options[1]?.vote_count).toBe(1);
  });
});
