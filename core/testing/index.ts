// Test helpers: a throwaway database on the machine's Postgres and a key prefix on its Redis, both cleaned up.
// Tests may read the environment here (TEST_PG_URL, TEST_REDIS_URL); product code reads config only in server/.
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_PG_URL = process.env.TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

export interface TestDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `lv_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`create database ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const c = new pg.Client({ connectionString: TEST_PG_URL });
      await c.connect();
      try {
        // pool.end() resolves before its connections have closed; forcing the drop on them now makes the server
        // kill them mid-goodbye, and that FATAL surfaces in the test as an unhandled pool error. Let them go first.
        for (let i = 0; i < 50; i++) {
          const rows = await c.query('select 1 from pg_stat_activity where datname = $1', [name]);
          if (rows.rowCount === 0) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        await c.query(`drop database if exists ${name} with (force)`);
      } finally {
        await c.end();
      }
    },
  };
}

export const testPrefix = (): string => `lvtest:${process.pid}:${randomBytes(4).toString('hex')}:`;

export * from './embedded-core.ts';
export * from './free-port.ts';
export * from './lunch.ts';
export * from './polls.ts';
export * from './postgres-server.ts';
export * from './recording-bus.ts';
export * from './recording-destinations.ts';
export * from './redis-server.ts';
