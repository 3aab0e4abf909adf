// The classification is tested on the errors node-postgres really raises through our driver (the machine's
// Postgres, a closed port, a socket that never answers), so a driver upgrade that rewords them fails here rather
// than in an outage.
import { createServer, type Server, type Socket } from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, freePort, type TestDatabase } from '../../../testing/index.ts';
import { pgDriver } from '../postgres/pg-store.ts';
import { isStoreUnavailable, loggableError, storeError } from './store-errors.ts';

let db: TestDatabase;
beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  await db?.drop();
});

const failure = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => {
      throw new Error('expected a failure');
    },
    (e: unknown) => e,
  );

/** A statement through our driver on a pool with these settings; the pool is closed afterwards. */
async function driverFailure(config: pg.PoolConfig, text: string, params?: unknown[]): Promise<unknown> {
  const pool = new pg.Pool(config);
  try {
    return await failure(pgDriver(pool).query(text, params));
  } finally {
    await pool.end();
  }
}

describe('isStoreUnavailable', () => {
  it('is true for a refused connection, in a query and in a transaction', async () => {
    const port = await freePort();
    const url = `postgres://postgres@127.0.0.1:${port}/x`;
    expect(isStoreUnavailable(await driverFailure({ connectionString: url }, 'select 1'))).toBe(true);
    const pool = new pg.Pool({ connectionString: url });
    try {
      const tx = await failure(pgDriver(pool).transaction(async (t) => t.query('select 1')));
      expect(isStoreUnavailable(tx)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('is true for a server that accepts the connection but never answers (connect timeout)', async () => {
    const sockets: Socket[] = [];
    const server: Server = createServer((s) => sockets.push(s));
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, '127.0.0.1', r));
    try {
      const err = await driverFailure(
        { connectionString: `postgres://postgres@127.0.0.1:${port}/x`, connectionTimeoutMillis: 200 },
        'select 1',
      );
      expect(isStoreUnavailable(err)).toBe(true);
    } finally {
      for (const s of sockets) s.destroy();
      server.close();
    }
  });

  it('is true for a client-side query timeout and a statement timeout', async () => {
    const read = await driverFailure({ connectionString: db.url, query_timeout: 150 }, 'select pg_sleep(2)');
    expect((read as Error).message).toMatch(/timeout/);
    expect(isStoreUnavailable(read)).toBe(true);
    const statement = await driverFailure(
      { connectionString: db.url, statement_timeout: 100 },
      'select pg_sleep(2)',
    );
    expect((statement as { code: string }).code).toBe('57014');
    expect(isStoreUnavailable(statement)).toBe(true);
  });

  it('is true when the server ends the session (57P01, as on a shutdown), even mid-transaction', async () => {
    const pool = new pg.Pool({ connectionString: db.url, max: 1 });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();
    try {
      let pid: number | undefined;
      const tx = failure(
        pgDriver(pool).transaction(async (t) => {
          pid = (await t.query<{ pid: number }>('select pg_backend_pid() as pid'))[0]?.pid;
          return t.query('select pg_sleep(5)');
        }),
      );
      await new Promise((r) => setTimeout(r, 200));
      await admin.query('select pg_terminate_backend($1)', [pid]);
      const err = await tx;
      expect((err as { code: string }).code).toBe('57P01');
      expect(isStoreUnavailable(err)).toBe(true);
      // The dead connection was dropped, not handed out again: the pool works on.
      expect(await pgDriver(pool).query('select 1 as x')).toEqual([{ x: 1 }]);
    } finally {
      await admin.end();
      await pool.end();
    }
  });

  it('is false for errors in our own statements and for other services, and looks through wrappers', async () => {
    const syntax = await driverFailure({ connectionString: db.url }, 'select $1::int', ['emp:12345']);
    expect(isStoreUnavailable(syntax)).toBe(false);
    expect(isStoreUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isStoreUnavailable(null)).toBe(false);
    // Slack, Teams or MongoDB refusing a connection is no store outage.
    const port = await freePort();
    const elsewhere = await failure(fetch(`http://127.0.0.1:${port}/`));
    expect(JSON.stringify((elsewhere as Error).cause, ['code'])).toContain('ECONNREFUSED');
    expect(isStoreUnavailable(elsewhere)).toBe(false);

    const refused = storeError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(isStoreUnavailable({ code: 'slack_bolt_unknown_error', original: refused })).toBe(true);
    expect(isStoreUnavailable(new Error('wrapped', { cause: refused }))).toBe(true);
    const aggregate = storeError(
      new AggregateError([Object.assign(new Error('x'), { code: 'ECONNREFUSED' })], 'all addresses failed'),
    );
    expect(isStoreUnavailable(aggregate)).toBe(true);
  });
});

describe('loggableError', () => {
  it('cuts a Postgres error to code, severity, routine and a message without the offending value', async () => {
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      const err = await failure(
        pool.query("select $1::jsonb->>'a', $2::int", ['{"emp_no":"12345", bad', 'U0SECRET']),
      );
      // What a plain pino line would have carried: the parameter, quoted back by Postgres.
      expect(JSON.stringify({ ...(err as object) })).toContain('12345');
      const logged = loggableError(err);
      expect(logged).toMatchObject({ type: 'DatabaseError', code: '22P02', severity: 'ERROR' });
      expect(Object.keys(logged).sort()).toEqual(['code', 'message', 'routine', 'severity', 'type']);
      expect(JSON.stringify(logged)).not.toContain('12345');

      const typed = loggableError(await failure(pool.query('select $1::int', ['emp:12345'])));
      expect(typed).toMatchObject({ code: '22P02', message: 'invalid input syntax for type integer: "…"' });
      expect(JSON.stringify(typed)).not.toContain('12345');

      const client = await pool.connect();
      try {
        await client.query('create temp table u (k text primary key)');
        await client.query("insert into u values ('emp:777')");
        const dup = loggableError(await failure(client.query("insert into u values ('emp:777')")));
        expect(dup).toMatchObject({ code: '23505' });
        expect(JSON.stringify(dup)).not.toContain('777');
      } finally {
        client.release();
      }
    } finally {
      await pool.end();
    }
  });

  it('keeps the stack of a bug, and drops it for an outage', () => {
    expect(loggableError(new TypeError('x is undefined'))).toMatchObject({
      type: 'TypeError',
      stack: expect.stringContaining('TypeError'),
    });
    const refused = storeError(
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }),
    );
    expect(loggableError(refused)).toEqual({
      type: 'Error',
      code: 'ECONNREFUSED',
      message: 'connect ECONNREFUSED 127.0.0.1:1',
    });
  });
});
