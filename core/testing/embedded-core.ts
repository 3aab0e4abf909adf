// An embedded core for tests: a fresh in-memory PGlite store behind createCore, with the in-process bus.
import { PGlite } from '@electric-sql/pglite';
import { MemoryBus } from '../src/adapters/memory-bus.ts';
import { createPgliteStore } from '../src/adapters/pglite/pglite-store.ts';
import { type Core, createCore } from '../src/app/core.ts';
import type { Store } from '../src/ports/store.ts';

/** The anonymity key of test stores and servers (a store needs one; see SqlStoreOptions.anonymityKey). */
export const TEST_ANONYMITY_KEY = 'test-anonymity-key-of-at-least-32-characters';

export interface EmbeddedCore {
  core: Core;
  /** The store under the core (before `wrap`). */
  store: Store;
  /** Stops the event path and closes the database. */
  close(): Promise<void>;
}

export async function embeddedCore(
  o: {
    /** What the core sees in place of the store (a counting wrapper). */
    wrap?: (store: Store) => Store;
    options?: Parameters<typeof createCore>[2];
  } = {},
): Promise<EmbeddedCore> {
  const db = await PGlite.create();
  const store = await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY });
  const core = createCore(o.wrap ? o.wrap(store) : store, new MemoryBus(), o.options);
  return {
    core,
    store,
    async close() {
      core.events.stop();
      await db.close();
    },
  };
}
