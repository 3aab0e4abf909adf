import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { storeContract } from '../../../test/store-contract.ts';
import { createTestDatabase } from '../../../testing/index.ts';
import { migrate } from '../sql/migrate.ts';
import { MIGRATIONS } from '../sql/migrations.ts';
import { SqlStore } from '../sql/sql-store.ts';
import { createPgStore, pgDriver } from './pg-store.ts';

storeContract(
  'Postgres (pg)',
  async () => {
    const db = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: db.url, max: 20 });
    const store = await createPgStore(pool);
    return {
      store,
      withOptions: (options) => new SqlStore(pgDriver(pool), options),
      sql: async (text, params) => (await pool.query(text, params)).rows,
      async close() {
        await pool.end();
        await db.drop();
      },
    };
  },
  { concurrency: 200 },
);

describe('Postgres migrations', () => {
  it('apply once, are safe to run again, and are safe from two processes at once', async () => {
    const db = await createTestDatabase();
    const pools = [new pg.Pool({ connectionString: db.url }), new pg.Pool({ connectionString: db.url })];
    try {
      const [a, b] = await Promise.all(pools.map((p) => migrate(pgDriver(p))));
      expect([...(a ?? []), ...(b ?? [])].sort()).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(pgDriver(pools[0] as pg.Pool))).toEqual([]);
      const { rows } = await (pools[0] as pg.Pool).query('select count(*)::int as n from schema_migrations');
      expect(rows[0].n).toBe(MIGRATIONS.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await db.drop();
    }
  });
});

describe('Postgres migration 4 (workspaces)', () => {
  it('moves existing polls, chat messages and directory rows into the workspace they came from', async () => {
    const db = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      await migrate(
        pgDriver(pool),
        MIGRATIONS.filter((m) => m.version < 4),
      );
      const poll = (id: string, by: string) =>
        pool.query(
          `insert into polls (id, title, template, settings, created_by) values ($1, 't', 'choice', '{}', $2)`,
          [id, by],
        );
      await poll('s1', 'slack:T123:U1');
      await poll('t1', 'teams:0f3c-tenant:aad-9');
      await poll('w1', 'admin');
      await poll('d1', 'seed');
      await pool.query(
        `insert into chat_messages (platform, channel, message_id, poll_id) values ('slack', 'C1', '1.1', 's1')`,
      );
      await pool.query(`insert into directory (platform, tenant, user_id, emp_no) values
        ('slack', 'T123', 'U1', '1'), ('teams', '0f3c-tenant', 'aad-9', '2'), ('web', '', '3', '3')`);
      expect(await migrate(pgDriver(pool))).toContain(4);
      const polls = await pool.query('select id, workspace from polls order by id');
      expect(Object.fromEntries(polls.rows.map((r) => [r.id, r.workspace]))).toEqual({
        d1: 'web',
        s1: 'slack:T123',
        t1: 'teams:0f3c-tenant',
        w1: 'web',
      });
      const chat = await pool.query('select workspace from chat_messages');
      expect(chat.rows[0].workspace).toBe('slack:T123');
      const dir = await pool.query('select user_id, workspace from directory order by user_id');
      expect(dir.rows.map((r) => r.workspace)).toEqual(['web', 'slack:T123', 'teams:0f3c-tenant']);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
