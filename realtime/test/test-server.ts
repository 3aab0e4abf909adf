// Test support: the HTTP API on a free port over a real store (Postgres or PGlite) and the in-process bus.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import {
  type Bus,
  type Core,
  createCore,
  createPgliteStore,
  createPgStore,
  MemoryBus,
  type Store,
} from '@livevote/core';
import { createTestDatabase, TEST_ANONYMITY_KEY } from '@livevote/core/testing';
import pg from 'pg';
import { createHttpApp, type Logger } from '../src/http/app.ts';
import type { AuthSettings } from '../src/http/identity.ts';

export const ADMIN = 'test-admin-token-0123456789';
export const SECRET = 'test-secret-0123456789-0123456789-abcdef';

export interface TestServer {
  url: string;
  store: Store;
  bus: Bus;
  core: Core;
  errors: unknown[];
  close(): Promise<void>;
}

export type StoreKind = 'postgres' | 'pglite';

export async function startTestServer(
  kind: StoreKind,
  auth: Partial<AuthSettings> = {},
): Promise<TestServer> {
  let store: Store;
  let closeStore: () => Promise<void>;
  if (kind === 'postgres') {
    const db = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: db.url, max: 20 });
    store = await createPgStore(pool, { anonymityKey: TEST_ANONYMITY_KEY });
    closeStore = async () => {
      await pool.end();
      await db.drop();
    };
  } else {
    const db = await PGlite.create();
    store = await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY });
    closeStore = () => db.close();
  }
  const bus = new MemoryBus();
  const errors: unknown[] = [];
  const log: Logger = { info() {}, warn() {}, error: (o) => errors.push(o) };
  const core = createCore(store, bus);
  const app = createHttpApp({
    core,
    auth: { mode: 'open', adminToken: ADMIN, secret: SECRET, ...auth },
    log,
  });
  const server = createServer(app);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    store,
    bus,
    core,
    errors,
    async close() {
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
      await closeStore();
    },
  };
}
