// Builds the adapters the config asks for. Only this file opens connections; adapters receive ready clients.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { type Bus, createPgliteStore, createPgStore, MemoryBus, RedisBus, type Store } from '@livevote/core';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.ts';

export interface Adapters {
  store: Store;
  bus: Bus;
  /** What the store and bus are, for the start-up banner and /readyz. */
  describe: { store: string; bus: string };
  close(): Promise<void>;
}

export async function openStore(
  config: Config,
  log: Logger,
): Promise<{ store: Store; name: string; close: () => Promise<void> }> {
  if (config.DATABASE_URL) {
    const pool = new pg.Pool({ connectionString: config.DATABASE_URL, max: config.DATABASE_POOL_SIZE });
    pool.on('error', (err) => log.warn({ err: err.message }, 'idle Postgres connection failed'));
    const store = await createPgStore(pool);
    return { store, name: `postgres ${new URL(config.DATABASE_URL).host}`, close: () => pool.end() };
  }
  const dir = resolve(config.DATA_DIR, 'pglite');
  await mkdir(dir, { recursive: true });
  const db = await PGlite.create(dir);
  const store = await createPgliteStore(db);
  return { store, name: `PGlite in ${dir}`, close: () => db.close() };
}

export async function openAdapters(config: Config, log: Logger): Promise<Adapters> {
  const s = await openStore(config, log);
  if (!config.REDIS_URL) {
    return {
      store: s.store,
      bus: new MemoryBus(),
      describe: { store: s.name, bus: 'in-process' },
      close: s.close,
    };
  }
  const clients = [0, 1].map(() => {
    const c = new Redis(config.REDIS_URL as string, {
      maxRetriesPerRequest: 2,
      retryStrategy: (n) => Math.min(n * 100, 2000),
    });
    c.on('error', (err) => log.warn({ err: err.message }, 'Redis connection problem'));
    return c;
  }) as [Redis, Redis];
  const bus = new RedisBus(clients[0], clients[1], config.REDIS_PREFIX);
  await bus.start();
  return {
    store: s.store,
    bus,
    describe: { store: s.name, bus: `redis ${new URL(config.REDIS_URL).host}` },
    async close() {
      for (const c of clients) c.disconnect();
      await s.close();
    },
  };
}

/** The embedded demo's admin token: kept in DATA_DIR so the admin link survives restarts. */
export async function embeddedAdminToken(config: Config): Promise<string> {
  const file = join(resolve(config.DATA_DIR), 'admin-token');
  try {
    const t = (await readFile(file, 'utf8')).trim();
    if (t.length >= 16) return t;
  } catch {
    // first start
  }
  const token = randomBytes(18).toString('base64url');
  await mkdir(resolve(config.DATA_DIR), { recursive: true });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}
