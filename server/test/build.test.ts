// The compiled server, as the image runs it (`node dist/server/main.js`): built into a scratch folder under dist/,
// then started as a realtime instance on the real Postgres and Redis and in the embedded mode, and asked for the
// Teams package, whose manifest it reads from manifests/ at run time.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createTestDatabase,
  freePort,
  TEST_ANONYMITY_KEY,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
} from '@livevote/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../build.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const ADMIN = 'build-test-admin-token-0123';
// Under the checkout, like dist/server: npm packages resolve from its node_modules.
const OUT = join(ROOT, 'dist', `test-build-${randomBytes(4).toString('hex')}`);
let main: string;
let db: TestDatabase;
const scratch = mkdtempSync(join(tmpdir(), 'lv-build-test-'));

beforeAll(async () => {
  [main, db] = await Promise.all([buildServer(OUT, 'warning'), createTestDatabase()]);
});
afterAll(async () => {
  rmSync(OUT, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
  await db?.drop();
});

async function startCompiled(env: Record<string, string>) {
  const port = await freePort();
  const child: ChildProcess = spawn(process.execPath, [main, 'start'], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', PORT: String(port), HOST: '127.0.0.1', LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (d) => {
    out += d;
  });
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const base = `http://127.0.0.1:${port}`;
  const stop = () => {
    child.kill('SIGTERM');
    return exited;
  };
  // A fresh PGlite directory runs initdb first: several seconds, more on a loaded machine.
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && child.exitCode === null) {
    const ok = await fetch(`${base}/readyz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return { base, stop, output: () => out };
    await new Promise((r) => setTimeout(r, 250));
  }
  child.kill('SIGKILL');
  throw new Error(`compiled server did not become ready:\n${out}`);
}

describe('compiled server (dist/server/main.js)', () => {
  it('bundles the workspace packages; npm packages stay imports, the optional drivers and chat apps dynamic ones', () => {
    const js = readFileSync(main, 'utf8');
    expect(js).not.toMatch(/(from |import\()"@livevote\//);
    expect(js).toMatch(/^import .* from "express";$/m);
    // PGlite and the MongoDB driver load only when the config asks for them.
    expect(js).not.toMatch(/from "(@electric-sql\/pglite|mongodb)"/);
    expect(js).toContain('import("@electric-sql/pglite")');
    expect(js).toContain('import("mongodb")');
    // So do the chat apps (only the bot and all roles serve them): Bolt and the Teams SDK sit in a lazy chunk.
    expect(js).not.toMatch(/from "(@slack\/bolt|@microsoft\/teams\.[a-z]+)"/);
    expect(js).toMatch(/\/\/# sourceMappingURL=main\.js\.map\s*$/);
    expect(JSON.parse(readFileSync(`${main}.map`, 'utf8')).sources).toContain('../../server/src/main.ts');
  });

  it('runs a realtime instance on Postgres and Redis: ready, a poll, a vote, drained on SIGTERM', async () => {
    const app = await startCompiled({
      ROLE: 'realtime',
      DATABASE_URL: db.url,
      ANONYMITY_KEY: TEST_ANONYMITY_KEY,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: testPrefix(),
      WEB_APP: 'off',
      ADMIN_TOKEN: ADMIN,
      // Teams is configured (its app runs in the bot): this process serves the board Teams frames as a tab.
      TEAMS_CLIENT_ID: '00000000-0000-0000-0000-00000000beef',
    });
    try {
      const ready = await fetch(`${app.base}/readyz`);
      expect(ready.headers.get('content-security-policy')).toContain(
        'frame-ancestors https://teams.microsoft.com',
      );
      expect(await ready.json()).toEqual({
        status: 'ready',
        checks: { store: 'up', bus: 'up', archive: 'off' },
      });
      const created = await fetch(`${app.base}/api/polls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
        body: JSON.stringify({ template: 'choice', title: 'Build', options: ['Pho', 'Bibimbap'] }),
      });
      expect(created.status).toBe(201);
      const pollId = ((await created.json()) as { poll: { id: string } }).poll.id;
      const voted = await fetch(`${app.base}/api/polls/${pollId}/votes?emp_no=4242`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ question_id: 'q1', option_ids: ['o2'] }),
      });
      expect(voted.status).toBe(200);
      expect(await voted.json()).toMatchObject({ version: 1, option_ids: ['o2'], changed: true });
      // No demo poll here (SEED_DEMO=auto seeds only the embedded mode): the banner points at none.
      expect(app.output()).toContain('livevote is up on');
      expect(app.output()).not.toContain('lunch-demo');
    } finally {
      expect(await app.stop(), app.output()).toBe(0);
    }
  });

  it('runs embedded (PGlite, in-process bus) and serves the seeded demo poll', async () => {
    const app = await startCompiled({ DATA_DIR: join(scratch, 'data'), WEB_APP: 'off' });
    try {
      const res = await fetch(`${app.base}/api/polls`);
      expect(((await res.json()) as { polls: { id: string }[] }).polls.map((p) => p.id)).toContain(
        'lunch-demo',
      );
      expect(app.output()).toContain('/p/lunch-demo?emp_no=12345');
    } finally {
      expect(await app.stop(), app.output()).toBe(0);
    }
  }, 90_000);

  it('names the setting when Postgres or Redis does not answer at start (exit 69), not a driver stack', () => {
    const run = (command: string, env: Record<string, string>) =>
      spawnSync(process.execPath, [main, command], {
        cwd: ROOT,
        env: {
          PATH: process.env.PATH ?? '',
          LOG_LEVEL: 'silent',
          DATA_DIR: join(scratch, 'unreachable'),
          ...env,
        },
        encoding: 'utf8',
        timeout: 60_000,
      });
    const pg = run('migrate', {
      DATABASE_URL: 'postgres://someone:secret-pw@127.0.0.1:1/livevote',
      ANONYMITY_KEY: TEST_ANONYMITY_KEY,
    });
    expect(pg.status, pg.stderr).toBe(69);
    expect(pg.stderr).toMatch(
      /^livevote cannot start: Postgres at 127\.0\.0\.1:1\/livevote \(DATABASE_URL\) did not answer/,
    );
    expect(pg.stderr).not.toContain('secret-pw');
    expect(pg.stderr.trim().split('\n')).toHaveLength(1);
    const redis = run('start', { REDIS_URL: 'redis://127.0.0.1:1', PORT: '0', WEB_APP: 'off' });
    expect(redis.status, redis.stderr).toBe(69);
    expect(redis.stderr).toContain('Redis at 127.0.0.1:1 (REDIS_URL) did not answer');
  });

  it('finds manifests/ at run time: writes the Teams package', () => {
    const file = join(scratch, 'teams.zip');
    const r = spawnSync(process.execPath, [main, 'teams-package', file], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '', TEAMS_CLIENT_ID: '00000000-0000-0000-0000-00000000beef' },
      encoding: 'utf8',
    });
    expect(r.status, r.stderr).toBe(0);
    const zip = readFileSync(file);
    for (const entry of ['manifest.json', 'color.png', 'outline.png']) expect(zip.includes(entry)).toBe(true);
  });

  it('finds manifests/ at run time: prints the Slack manifest, socket mode following SLACK_APP_TOKEN', () => {
    const print = (extra: Record<string, string>) =>
      spawnSync(process.execPath, [main, 'slack-manifest'], {
        cwd: ROOT,
        env: { PATH: process.env.PATH ?? '', PUBLIC_URL: 'https://vote.acme.test', ...extra },
        encoding: 'utf8',
      });
    const http = print({});
    expect(http.status, http.stderr).toBe(0);
    expect(http.stdout).toContain('request_url: https://vote.acme.test/slack/events');
    expect(http.stdout).toContain('- https://vote.acme.test/slack/oauth_redirect');
    const socket = print({ SLACK_APP_TOKEN: 'xapp-1-test' });
    expect(socket.status, socket.stderr).toBe(0);
    expect(socket.stdout).toContain('socket_mode_enabled: true');
    expect(socket.stdout).not.toContain('/slack/events');
  });
});
