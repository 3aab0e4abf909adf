import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { describe, expect, it } from 'vitest';
import { storeContract } from '../../../test/store-contract.ts';
import { TEST_ANONYMITY_KEY } from '../../../testing/index.ts';
import { buildPoll } from '../../domain/poll-definition.ts';
import { webVoter } from '../../domain/voter.ts';
import { SqlStore } from '../sql/sql-store.ts';
import { createPgliteStore, pgliteDriver } from './pglite-store.ts';

storeContract(
  'PGlite (embedded)',
  async () => {
    const db = await PGlite.create();
    return {
      store: await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY }),
      withOptions: (options) => new SqlStore(pgliteDriver(db), options),
      sql: async (text, params) => (await db.query(text, params)).rows as never[],
      close: () => db.close(),
    };
  },
  { concurrency: 200 },
);

describe('PGlite in a data directory', () => {
  it('keeps votes across a restart and migrates an existing directory without harm', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lv-pglite-'));
    try {
      let db = await PGlite.create(dir);
      let store = await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY });
      const poll = buildPoll({ template: 'choice', title: 'T', options: ['a', 'b'] }, 'persist1', new Date());
      await store.createPoll(poll, null);
      await store.cast({ pollId: 'persist1', questionId: 'q1', voter: webVoter('1'), optionIds: ['o2'] });
      await db.close();
      db = await PGlite.create(dir);
      store = await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY });
      expect((await store.readTally('persist1'))?.counts.o2).toBe(1);
      await db.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
