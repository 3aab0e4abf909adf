// Store adapter for embedded PGlite (Postgres in WebAssembly, one connection): the zero-setup default.
import type { PGlite } from '@electric-sql/pglite';
import { PollKeys } from '../sql/anonymity.ts';
import { migrate } from '../sql/migrate.ts';
import { MIGRATIONS } from '../sql/migrations.ts';
import type { SqlDriver } from '../sql/sql-driver.ts';
import { SqlStore, type SqlStoreOptions } from '../sql/sql-store.ts';

export function pgliteDriver(db: PGlite): SqlDriver {
  return {
    async query<R>(text: string, params?: unknown[]) {
      return (await db.query<R>(text, params)).rows;
    },
    transaction(fn) {
      return db.transaction((tx) =>
        fn({
          query: async <R>(text: string, params?: unknown[]) => (await tx.query<R>(text, params)).rows,
          exec: async (script) => void (await tx.exec(script)),
        }),
      );
    },
  };
}

export async function createPgliteStore(db: PGlite, options: SqlStoreOptions): Promise<SqlStore> {
  const driver = pgliteDriver(db);
  await migrate(driver, MIGRATIONS, { pollKeys: new PollKeys(options.anonymityKey) });
  return new SqlStore(driver, options);
}
