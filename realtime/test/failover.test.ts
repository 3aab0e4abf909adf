// Real processes: an instance killed outright, and one drained with SIGTERM. Clients reconnect elsewhere and resync.
import { type ChildProcess, spawn } from 'node:child_process';
import {
  createTestDatabase,
  freePort,
  TEST_ANONYMITY_KEY,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
} from '@livevote/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ADMIN, createLunchPoll, TestClient, vote } from './cluster.ts';

const root = new URL('../../', import.meta.url).pathname;

interface Proc {
  child: ChildProcess;
  base: string;
  ws: string;
  output: () => string;
}

async function spawnInstance(db: TestDatabase, prefix: string): Promise<Proc> {
  const port = await freePort();
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/src/main.ts', 'start'], {
    cwd: root,
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      PORT: String(port),
      HOST: '127.0.0.1',
      ROLE: 'realtime',
      DATABASE_URL: db.url,
      ANONYMITY_KEY: TEST_ANONYMITY_KEY,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: prefix,
      ADMIN_TOKEN: ADMIN,
      LOG_LEVEL: 'warn',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 120; i++) {
    if (child.exitCode !== null) break;
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { child, base, ws: `ws://127.0.0.1:${port}/ws/votes`, output: () => out };
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`instance did not become ready:\n${out}`);
}

const exited = (p: Proc) =>
  new Promise<number | null>((resolve) => {
    if (p.child.exitCode !== null) resolve(p.child.exitCode);
    else p.child.once('exit', (code) => resolve(code));
  });

describe('instances as real processes', () => {
  let db: TestDatabase;
  const procs: Proc[] = [];
  beforeAll(async () => {
    db = await createTestDatabase();
    const prefix = testPrefix();
    procs.push(
      ...(await Promise.all([
        spawnInstance(db, prefix),
        spawnInstance(db, prefix),
        spawnInstance(db, prefix),
      ])),
    );
  }, 90_000);
  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await db.drop();
  });

  it('an instance killed: its clients reconnect to another and resync to what they missed', async () => {
    const [a, b] = procs as [Proc, Proc];
    const pollId = await createLunchPoll(b.base);
    const client = await TestClient.open(`${a.ws}?emp_no=1&poll_id=${pollId}`);
    await vote(b.base, pollId, 1, 'p1');
    await expect.poll(() => client.latest.get(pollId)?.version).toBe(1);
    a.child.kill('SIGKILL');
    await expect.poll(() => client.closed?.code, { timeout: 10_000 }).toBe(1006);
    // Votes go on elsewhere while the client is away.
    await vote(b.base, pollId, 2, 'p2');
    await vote(b.base, pollId, 3, 'p2');
    const known = client.latest.get(pollId)?.version ?? 0;
    const again = await TestClient.open(`${b.ws}?emp_no=1`);
    again.send('subscribe', { poll_id: pollId, version: known });
    await expect.poll(() => again.latest.get(pollId)?.version).toBe(3);
    expect(again.latest.get(pollId)?.place_votes?.map((p) => p.vote_count)).toEqual([1, 2, 0]);
    again.close();
  }, 60_000);

  it('an instance drained with SIGTERM closes sockets with 1012 and exits 0', async () => {
    const c = procs[2] as Proc;
    const pollId = await createLunchPoll(c.base);
    const client = await TestClient.open(`${c.ws}?poll_id=${pollId}`);
    await expect.poll(() => client.latest.has(pollId)).toBe(true);
    c.child.kill('SIGTERM');
    expect(await exited(c)).toBe(0);
    expect(client.closed?.code).toBe(1012);
  }, 60_000);
});
