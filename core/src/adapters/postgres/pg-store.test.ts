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
