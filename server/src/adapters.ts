// Builds the adapters the config asks for. Only this file opens connections; adapters receive ready clients.

import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import {
  ANONYMITY_KEY_MIN_LENGTH,
  type Archive,
  type Bus,
  createPgliteStore,
  createPgStore,
  type InstallationStore,
  MemoryBus,
  MIGRATIONS,
  migrate,
  PollKeys,
  pgDriver,
  pgliteDriver,
  RedisBus,
  type SqlDriver,
  SqlInstallationStore,
  type Store,
  StoreErrorLog,
  storeError,
} from '@livevote/core';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import { createLimits, type Limits } from './limits.ts';

export interface Adapters {
  store: Store;
  bus: Bus;
  /** MongoDB audit log and archive; absent when MONGO_URL is unset (the outbox then just keeps its rows). */
  archive?: Archive;
  /** Abuse limits; absent when ABUSE_LIMITS=off. Over Redis when REDIS_URL is set, else in memory. */
  limits?: Limits;
  /** What the store and bus are, for the start-up banner and /readyz. */
  describe: { store: string; bus: string; archive: string };
  /** Where every edge and loop reports a failed store call: an outage is logged at most once a second. */
  storeErrors: StoreErrorLog;
  /** Keys every instance can claim once (Redis SET NX PX), e.g. Slack request signatures; absent without Redis. */
  sharedOnce?: { claim(key: string, ttlMs: number): Promise<boolean> };
  /**
   * The Redis client chat rate-limit budgets are counted on, so every bot process spends them together; absent: each
   * process counts alone. (A client, not the budgets: the bot package is loaded only by roles that serve chat.)
   */
  deliveryLimiterClient?: Redis;
  /** Slack OAuth installations, sealed with ENCRYPTION_KEY; present when ENCRYPTION_KEY is set. */
  installations?: InstallationStore;
  close(): Promise<void>;
}

/**
 * The driver connects on first use and reconnects by itself, so a MongoDB that is down at start delays only the
 * outbox, never start-up or votes.
 */
export async function openArchive(
  config: Config,
): Promise<{ archive: Archive; name: string; close: () => Promise<void> } | null> {
  if (!config.MONGO_URL) return null;
  // Imported only when configured: loading the driver alone adds ~24 MiB to a process that never uses it.
  const [{ MongoClient }, { MongoArchive }] = await Promise.all([
    import('mongodb'),
    import('@livevote/core/mongo'),
  ]);
  const client = new MongoClient(config.MONGO_URL, { serverSelectionTimeoutMS: 5_000, appName: 'livevote' });
  const url = new URL(config.MONGO_URL);
  const dbName = decodeURIComponent(url.pathname.slice(1)) || 'livevote';
  return {
    archive: new MongoArchive(client.db(dbName)),
    name: `mongodb ${url.host}/${dbName}`,
    close: () => client.close(),
  };
}

/** A service the configuration names did not answer at start: which variable, where (no credentials), and why. */
export class Unreachable extends Error {
  constructor(
    readonly variable: 'DATABASE_URL' | 'REDIS_URL',
    what: string,
    url: string,
    cause: unknown,
  ) {
    const u = new URL(url);
    super(
      `${what} at ${u.host}${u.pathname === '/' ? '' : u.pathname} (${variable}) did not answer: ${(cause as Error)?.message ?? String(cause)}`,
    );
  }
}

export async function openStore(
  config: Config,
  log: Logger,
  /** Write the audit/archive outbox: only when something will deliver it (an archive is configured). */
  audit = config.MONGO_URL !== undefined,
): Promise<{
  store: Store;
  /** The same database for the other SQL adapters (installations). */
  driver: SqlDriver;
  name: string;
  errors: StoreErrorLog;
  close: () => Promise<void>;
}> {
  const options = {
    audit,
    idempotencyTtlMs: config.idempotencyTtlMs,
    castSlots: config.DATABASE_CAST_SLOTS,
    anonymityKey: await anonymityKey(config),
  };
  const errors = new StoreErrorLog(log);
  if (config.DATABASE_URL) {
    // Migrations may rightly run longer than any request's statement: they get a connection without those limits.
    const migrator = new pg.Pool({
      connectionString: config.DATABASE_URL,
      max: 1,
      connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
    });
    try {
      // Migration 6 hashes existing anonymous ballots: it needs the same key as the store.
      await migrate(pgDriver(migrator), MIGRATIONS, { pollKeys: new PollKeys(options.anonymityKey) });
    } catch (err) {
      // Not there, refusing us, no such database or role: say which setting, not a driver stack.
      const code = (err as { code?: string }).code ?? '';
      if (
        /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|3D000|28000|28P01)$/.test(code) ||
        /timeout/i.test(String(err))
      )
        throw new Unreachable('DATABASE_URL', 'Postgres', config.DATABASE_URL, err);
      throw err;
    } finally {
      await migrator.end();
    }
    const pool = new pg.Pool({
      connectionString: config.DATABASE_URL,
      max: config.DATABASE_POOL_SIZE,
      connectionTimeoutMillis: config.DATABASE_CONNECT_TIMEOUT_MS,
      statement_timeout: config.DATABASE_STATEMENT_TIMEOUT_MS,
      query_timeout: config.DATABASE_QUERY_TIMEOUT_MS,
      idle_in_transaction_session_timeout: config.DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS,
    });
    // Every idle connection reports a restart or an outage: one line a second, not one per connection.
    pool.on('error', (err) => errors.report(storeError(err), 'idle Postgres connection failed'));
    const store = await createPgStore(pool, options); // its migrate() finds nothing left to do
    return {
      store,
      driver: pgDriver(pool),
      name: `postgres ${new URL(config.DATABASE_URL).host}`,
      errors,
      close: () => pool.end(),
    };
  }
  const dir = resolve(config.DATA_DIR, 'pglite');
  await mkdir(dir, { recursive: true });
  // Imported only in the embedded mode: a Postgres deployment never needs PGlite (Postgres in WebAssembly).
  const { PGlite } = await import('@electric-sql/pglite');
  const db = await PGlite.create(dir);
  const store = await createPgliteStore(db, options);
  return { store, driver: pgliteDriver(db), name: `PGlite in ${dir}`, errors, close: () => db.close() };
}

export async function openAdapters(
  config: Config,
  log: Logger,
  /** An archive to use instead of the one MONGO_URL names (tests: the in-memory one; no MongoDB runs here). */
  options: { archive?: Archive } = {},
): Promise<Adapters> {
  const a = options.archive
    ? { archive: options.archive, name: 'injected', close: async () => {} }
    : await openArchive(config);
  // The store writes the outbox exactly when an archive will drain it.
  const s = await openStore(config, log, a !== null);
  const archive = a ? { archive: a.archive } : {};
  const archiveName = a?.name ?? 'off';
  const installations = config.ENCRYPTION_KEY
    ? {
        installations: new SqlInstallationStore(s.driver, {
          encryptionKey: config.ENCRYPTION_KEY,
          previousEncryptionKeys: config.ENCRYPTION_KEY_PREVIOUS,
        }),
      }
    : {};
  if (!config.REDIS_URL) {
    const limits = createLimits(config, log);
    return {
      store: s.store,
      bus: new MemoryBus(),
      ...archive,
      ...installations,
      ...(limits ? { limits } : {}),
      describe: { store: s.name, bus: 'in-process', archive: archiveName },
      storeErrors: s.errors,
      async close() {
        await a?.close();
        await s.close();
      },
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
  try {
    await bus.start();
  } catch (err) {
    for (const c of clients) c.disconnect();
    await Promise.all([a?.close(), s.close()]);
    throw new Unreachable('REDIS_URL', 'Redis', config.REDIS_URL, err);
  }
  const limiter = config.ABUSE_LIMITS === 'on' ? await openLimiterClient(config.REDIS_URL) : undefined;
  const limits = createLimits(config, log, limiter);
  return {
    store: s.store,
    bus,
    ...archive,
    ...installations,
    ...(limits ? { limits } : {}),
    describe: { store: s.name, bus: `redis ${new URL(config.REDIS_URL).host}`, archive: archiveName },
    storeErrors: s.errors,
    // On the publishing connection: the other one is in subscriber mode.
    sharedOnce: {
      claim: async (key, ttlMs) =>
        (await clients[0].set(`${config.REDIS_PREFIX}once:${key}`, '1', 'PX', Math.ceil(ttlMs), 'NX')) ===
        'OK',
    },
    deliveryLimiterClient: clients[0],
    async close() {
      for (const c of clients) c.disconnect();
      limiter?.disconnect();
      await a?.close();
      await s.close();
    },
  };
}

/** A slow Redis may hold a vote this long at most; then the limiter counts locally (see limits.ts). */
const LIMITER_COMMAND_TIMEOUT_MS = 500;

/**
 * The abuse limiter's own connection: it fails fast (no offline queue, a command timeout) where the bus's waits,
 * because a vote must never queue behind Redis. Its errors are reported by the limiter, once a minute.
 */
export async function openLimiterClient(url: string): Promise<Redis> {
  const c = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: LIMITER_COMMAND_TIMEOUT_MS,
    retryStrategy: (n) => Math.min(n * 100, 2000),
  });
  c.on('error', () => {});
  // The bus just reached this Redis, so this is quick; if not, the limiter counts locally until it is ready.
  await new Promise<void>((resolve) => {
    c.once('ready', () => resolve());
    setTimeout(resolve, 5_000).unref();
  });
  return c;
}

/** A secret the embedded mode makes on its first start and keeps in DATA_DIR (mode 600), so it survives restarts. */
async function embeddedSecret(
  config: Config,
  name: string,
  bytes: number,
  minLength: number,
): Promise<string> {
  const file = join(resolve(config.DATA_DIR), name);
  try {
    const t = (await readFile(file, 'utf8')).trim();
    if (t.length >= minLength) return t;
  } catch {
    // first start
  }
  const secret = randomBytes(bytes).toString('base64url');
  await mkdir(resolve(config.DATA_DIR), { recursive: true });
  await writeFile(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The embedded demo's admin token: kept in DATA_DIR so the admin link survives restarts. */
export const embeddedAdminToken = (config: Config): Promise<string> =>
  embeddedSecret(config, 'admin-token', 18, 16);

/**
 * The key anonymous polls are hashed with: ANONYMITY_KEY, or in the embedded mode one kept in DATA_DIR beside the
 * database (one process, so nothing else must agree with it). Losing it while an anonymous poll is open lets its
 * voters vote again there, as strangers.
 */
export const anonymityKey = async (config: Config): Promise<string> => {
  if (config.ANONYMITY_KEY) return config.ANONYMITY_KEY;
  // The config refuses DATABASE_URL without ANONYMITY_KEY; this guards a Config built some other way.
  if (!config.embedded) throw new Error('ANONYMITY_KEY is required with DATABASE_URL');
  return embeddedSecret(config, 'anonymity-key', 32, ANONYMITY_KEY_MIN_LENGTH);
};
