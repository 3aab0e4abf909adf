import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';
import {
  CONTRACT_ENCRYPTION_KEY,
  installationStoreContract,
} from '../../../test/installation-store-contract.ts';
import { createTestDatabase } from '../../../testing/index.ts';
import { pgliteDriver } from '../pglite/pglite-store.ts';
import { pgDriver } from '../postgres/pg-store.ts';
import { SqlInstallationStore } from './installation-store.ts';
import { migrate } from './migrate.ts';

installationStoreContract('PGlite (embedded)', async () => {
  const db = await PGlite.create();
  const driver = pgliteDriver(db);
  await migrate(driver);
  return {
    store: new SqlInstallationStore(driver, { encryptionKey: CONTRACT_ENCRYPTION_KEY }),
    withKey: (encryptionKey, previousEncryptionKeys) =>
      new SqlInstallationStore(driver, {
        encryptionKey,
        ...(previousEncryptionKeys ? { previousEncryptionKeys } : {}),
      }),
    sql: async (text, params) => (await db.query(text, params)).rows as never[],
    close: () => db.close(),
  };
});

installationStoreContract('Postgres (pg)', async () => {
  const db = await createTestDatabase();
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  const driver = pgDriver(pool);
  await migrate(driver);
  return {
    store: new SqlInstallationStore(driver, { encryptionKey: CONTRACT_ENCRYPTION_KEY }),
    // Another process: its own connections, the same database.
    withKey: (encryptionKey, previousEncryptionKeys) =>
      new SqlInstallationStore(pgDriver(pool), {
        encryptionKey,
        ...(previousEncryptionKeys ? { previousEncryptionKeys } : {}),
      }),
    sql: async (text, params) => (await pool.query(text, params)).rows,
    async close() {
      await pool.end();
      await db.drop();
    },
  };
});
