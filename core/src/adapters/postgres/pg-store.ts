// Store adapter for a Postgres server through a caller-owned pg.Pool.
import type pg from 'pg';
import { PollKeys } from '../sql/anonymity.ts';
import { migrate } from '../sql/migrate.ts';
import { MIGRATIONS } from '../sql/migrations.ts';
import type { SqlDriver } from '../sql/sql-driver.ts';
import { SqlStore, type SqlStoreOptions } from '../sql/sql-store.ts';

/**
 * Parameterised statements run as named prepared statements: Postgres parses and plans each once per connection
 * instead of once per call. Our statement texts are a fixed set, so the name table stays small.
 */
const names = new Map<string, string>();
function prepared(text: string, values: unknown[]): pg.QueryConfig {
  let name = names.get(text);
  if (name === undefined) {
    name = `lv${names.size + 1}`;
    names.set(text, name);
  }
  return { name, text, values };
}

export function pgDriver(pool: pg.Pool): SqlDriver {
  return {
    async query<R>(text: string, params?: unknown[]) {
      return (await (params ? pool.query(prepared(text, params)) : pool.query(text))).rows as R[];
    },
    async transaction(fn) {
      const client = await pool.connect();
      try {
        await client.query('begin');
        const result = await fn({
          query: async <R>(text: string, params?: unknown[]) =>
            (await client.query(text, params)).rows as R[],
          exec: async (script) => void (await client.query(script)),
        });
        await client.query('commit');
        return result;
      } catch (e) {
        await client.query('rollback').catch(() => {});
        throw e;
      } finally {
        client.release();
      }
    },
  };
}

/** Applies pending migrations, then returns the store. */
export async function createPgStore(pool: pg.Pool, options: SqlStoreOptions): Promise<SqlStore> {
  const driver = pgDriver(pool);
  await migrate(driver, MIGRATIONS, { pollKeys: new PollKeys(options.anonymityKey) });
  return new SqlStore(driver, options);
}
