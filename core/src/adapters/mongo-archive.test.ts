// Runs the Archive contract on a real MongoDB. None can be installed on the CI machines, so without MONGO_URL the
// suite is skipped with the reason printed; the logic around it (outbox, drain, retry) is tested on the port.
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { describe, it } from 'vitest';
import { archiveContract } from '../../test/archive-contract.ts';
import { MongoArchive } from './mongo-archive.ts';

const url = process.env.MONGO_URL;

if (url) {
  archiveContract('MongoDB', async () => {
    const client = await new MongoClient(url, { serverSelectionTimeoutMS: 5000 }).connect();
    const db = client.db(`lv_test_${randomBytes(4).toString('hex')}`);
    return {
      archive: new MongoArchive(db),
      async close() {
        await db.dropDatabase();
        await client.close();
      },
    };
  });
} else {
  const reason =
    'MONGO_URL is not set (no MongoDB server can run on this machine); set it to run the Mongo adapter';
  console.warn(`[mongo-archive] skipped: ${reason}`);
  describe('Archive contract: MongoDB', () => {
    it.skip(`skipped: ${reason}`, () => {});
  });
}
