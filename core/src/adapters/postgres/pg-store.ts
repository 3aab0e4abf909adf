// Store adapter for a Postgres server through a caller-owned pg.Pool.
import type pg from 'pg';
import { PollKeys } from '../sql/anonymity.ts';
import { migrate } from '../sql/migrate.ts';
import { MIGRATIONS } from '../sql/migrations.ts';
import type { SqlDriver } from '../sql/sql-driver.ts';
import { SqlStore, type SqlStoreOptions } from '../sql/sql-store.ts';
import { isStoreUnavailable, storeError } from '../sql/store-errors.ts';

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
      try {
        return (await (params ? pool.query(prepared(text, params)) : pool.query(text))).rows as R[];
      } catch (e) {
        throw storeError(e);
      }
    },
    async transaction(fn) {
      const client = await pool.connect().catch((e: unknown) => {
        throw storeError(e);
      });
      // A connection that dies while checked out also emits 'error'; unheard, that event would end the process.
      // The query in flight rejects as well, so the transaction fails the usual way.
      let lost: unknown;
      const onError = (err: Error) => {
        lost = err;
      };
      client.on('error', onError);
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
        storeError(e);
        // On a dead or frozen connection a rollback would only wait out another timeout: drop the connection
        // instead (the server rolls back a transaction whose session ends).
        if (lost === undefined && isStoreUnavailable(e)) lost = e;
        if (lost === undefined) await client.query('rollback').catch(() => {});
        throw e;
      } finally {
        client.off('error', onError);
        client.release(lost === undefined ? undefined : true);
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
