// The outbox drainer against the real Postgres, with the in-memory Archive standing in for MongoDB.
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, TEST_ANONYMITY_KEY, type TestDatabase } from '../../testing/index.ts';
import { MemoryArchive } from '../adapters/memory-archive.ts';
import { createPgStore, pgDriver } from '../adapters/postgres/pg-store.ts';
import { SqlStore } from '../adapters/sql/sql-store.ts';
import { buildPoll } from '../domain/poll-definition.ts';
import { webVoter } from '../domain/voter.ts';
import type { AuditEntry } from '../ports/archive.ts';
import type { CreatePollBody } from '../protocol/index.ts';
import { backoffDelay, OutboxDrain } from './outbox-drain.ts';

let db: TestDatabase;
let pool: pg.Pool;
let store: SqlStore;
let seq = 0;

beforeAll(async () => {
  db = await createTestDatabase();
  pool = new pg.Pool({ connectionString: db.url, max: 10 });
  store = await createPgStore(pool, { anonymityKey: TEST_ANONYMITY_KEY });
});
afterAll(async () => {
  await pool?.end();
  await db?.drop();
});

async function newPoll(settings: CreatePollBody['settings'] = {}) {
  const poll = buildPoll(
    { template: 'choice', title: 'Lunch?', options: ['Pizza', 'Sushi'], settings },
    `d${seq++}${Date.now().toString(36)}`,
    new Date(),
  );
  await store.createPoll(poll, 'admin');
  return poll;
}
const vote = (pollId: string, emp: string, option: string) =>
  store.cast({ pollId, questionId: 'q1', voter: webVoter(emp), optionIds: [option] });

/** A MongoDB that answers and takes every document except those `refuse` picks (say, over its size limit). */
class PickyArchive extends MemoryArchive {
  refuse: (e: AuditEntry) => boolean = (e) => e.delivery_id === 'poison';

  override async writeAudit(entries: AuditEntry[]): Promise<void> {
    if (entries.some((e) => this.refuse(e))) {
      this.writes++;
      throw new Error('BSONObj size: 16793600 (0x1001000) is invalid');
    }
    await super.writeAudit(entries);
  }
}

describe('OutboxDrain', () => {
  it('keeps accepting votes while the archive is down, then delivers every entry exactly once', async () => {
    const archive = new MemoryArchive();
    archive.down = new Error('connect ECONNREFUSED 127.0.0.1:27017');
    const drain = new OutboxDrain({ store, archive, batch: 7 });
    const poll = await newPoll();
    const votes = await Promise.all(Array.from({ length: 30 }, (_, i) => vote(poll.id, `90${i}`, 'o1')));
    expect(votes.every((v) => v.ok)).toBe(true);

    await expect(drain.drainOnce()).rejects.toThrow('ECONNREFUSED');
    expect(await store.outboxDepth()).toBe(31); // poll_created + 30 votes, all still waiting in Postgres
    expect(archive.audit.size).toBe(0);

    archive.down = null;
    expect(await drain.flush(10_000)).toBe(0);
    const entries = await archive.auditOf(poll.id);
    expect(entries).toHaveLength(31);
    expect(new Set(entries.filter((e) => e.type === 'vote').map((e) => e.voter)).size).toBe(30);
    expect(drain.delivered).toBe(31);
    expect(drain.failed).toBe(1);
  });

  it('does not duplicate entries when a drainer dies after writing but before marking them sent', async () => {
    const archive = new MemoryArchive();
    const poll = await newPoll();
    await vote(poll.id, '801', 'o2');
    const dying = new OutboxDrain({
      store: Object.assign(Object.create(store) as SqlStore, {
        outboxSent: async () => {
          throw new Error('process killed');
        },
      }),
      archive,
      leaseMs: 1,
    });
    await expect(dying.drainOnce()).rejects.toThrow('process killed');
    expect(archive.audit.size).toBe(2);
    await new Promise((r) => setTimeout(r, 10)); // the dead drainer's lease runs out
    const next = new OutboxDrain({ store, archive });
    expect(await next.drainOnce()).toBe(2);
    expect(archive.writes).toBe(4); // both delivered twice (audit + archive call each time) ...
    expect((await archive.auditOf(poll.id)).length).toBe(2); // ... but stored once
  });

  it('archives a closed poll with its final result and the tally after every change', async () => {
    const archive = new MemoryArchive();
    const drain = new OutboxDrain({ store, archive });
    const poll = await newPoll();
    await vote(poll.id, '1', 'o1');
    await vote(poll.id, '2', 'o2');
    await vote(poll.id, '1', 'o2'); // changes their mind
    await store.closePoll(poll.id, 'admin');
    await drain.flush(10_000);

    const doc = await archive.archived(poll.id);
    expect(doc?.result.status).toBe('closed');
    expect(doc?.result.leader).toMatchObject({ option_id: 'o2', vote_count: 2 });
    expect(doc?.poll.title).toBe('Lunch?');
    expect(doc?.history.map((h) => h.counts)).toEqual([
      { o1: 1, '#q1': 1 },
      { o1: 1, o2: 1, '#q1': 2 },
      { o2: 2, '#q1': 2 },
    ]);
    const closed = (await archive.auditOf(poll.id)).find((e) => e.type === 'poll_closed');
    expect(doc?.closed_at).toBe(closed?.at);
    // Archived: Postgres no longer keeps the poll's delivered audit rows.
    expect(await store.auditTrail(poll.id)).toEqual([]);
  });

  it('keeps voters out of the archive of an anonymous poll', async () => {
    const archive = new MemoryArchive();
    const poll = await newPoll({ anonymous: true });
    await vote(poll.id, '246810', 'o1');
    await store.closePoll(poll.id, 'admin');
    await new OutboxDrain({ store, archive }).flush(10_000);
    const everything = JSON.stringify([await archive.auditOf(poll.id), await archive.archived(poll.id)]);
    expect(everything).toContain('"vote_count":1');
    expect(everything).not.toContain('246810');
  });

  it('runs in the background and catches up once the archive comes back', async () => {
    const archive = new MemoryArchive();
    archive.down = new Error('no primary');
    const drain = new OutboxDrain({ store, archive, idleMs: 10, minBackoffMs: 5, maxBackoffMs: 20 });
    drain.start();
    try {
      const poll = await newPoll();
      await vote(poll.id, '3', 'o1');
      await expect.poll(() => drain.failed).toBeGreaterThan(1);
      archive.down = null;
      await expect.poll(async () => (await archive.auditOf(poll.id)).length).toBe(2);
      await expect.poll(() => store.outboxDepth()).toBe(0);
    } finally {
      await drain.stop();
    }
  });
});

describe('OutboxDrain with a document the archive refuses', () => {
  it('parks it after N refusals of its own, delivers the rows behind it, and sends it after a retry', async () => {
    const archive = new PickyArchive();
    const parked: number[] = [];
    const drain = new OutboxDrain({ store, archive, parkAfter: 3, onParked: (ids) => parked.push(...ids) });
    const poll = await newPoll();
    const poison = { pollId: poll.id, questionId: 'q1', voter: webVoter('700'), optionIds: ['o1'] };
    await store.cast({ ...poison, idempotencyKey: 'poison' });
    for (let i = 0; i < 5; i++) await vote(poll.id, `71${i}`, 'o2');

    // Its batch fails; halving finds the one bad row and delivers the six others (poll_created and 5 votes).
    expect(await drain.drainOnce()).toBe(6);
    expect((await archive.auditOf(poll.id)).map((e) => e.delivery_id ?? null)).not.toContain('poison');
    expect(await archive.auditOf(poll.id)).toHaveLength(6);
    expect(await store.outboxDepth()).toBe(1);
    // Refused alone twice more: the third refusal parks it.
    expect(await drain.drainOnce()).toBe(0);
    expect(await store.outboxParked()).toBe(0);
    expect(await drain.drainOnce()).toBe(0);
    expect(await store.outboxParked()).toBe(1);
    expect(parked).toHaveLength(1);
    expect(await store.outboxDepth()).toBe(0);

    // Parked, it is no longer sent: new rows go through without a failed batch.
    const failed = drain.failed;
    await vote(poll.id, '720', 'o1');
    expect(await drain.drainOnce()).toBe(1);
    expect(drain.failed).toBe(failed);

    archive.refuse = () => false; // fixed (say, the size limit of the collection was raised)
    expect(await store.retryParkedOutbox()).toBe(1);
    expect(await drain.drainOnce()).toBe(1);
    expect((await archive.auditOf(poll.id)).filter((e) => e.delivery_id === 'poison')).toHaveLength(1);
    expect([await store.outboxParked(), await store.outboxDepth()]).toEqual([0, 0]);
  });

  it('parks nothing while the archive is down, however many rounds fail', async () => {
    const archive = new MemoryArchive();
    archive.down = new Error('connect ECONNREFUSED 127.0.0.1:27017');
    const drain = new OutboxDrain({ store, archive, parkAfter: 2 });
    const poll = await newPoll(); // one row: alone, it could be blamed if the outage were not noticed
    for (let i = 0; i < 4; i++) await expect(drain.drainOnce()).rejects.toThrow('ECONNREFUSED');
    expect(await store.outboxParked()).toBe(0);
    archive.down = null;
    expect(await drain.flush(10_000)).toBe(0);
    expect(await archive.auditOf(poll.id)).toHaveLength(1);
  });

  it('parks nothing while the archive answers but takes no document at all', async () => {
    const archive = new PickyArchive();
    archive.refuse = () => true; // say, the archive's user lost its write permission
    const drain = new OutboxDrain({ store, archive, parkAfter: 2 });
    const poll = await newPoll();
    await vote(poll.id, '730', 'o1');
    for (let i = 0; i < 4; i++) await expect(drain.drainOnce()).rejects.toThrow('BSONObj');
    expect(await store.outboxParked()).toBe(0);
    archive.refuse = () => false;
    expect(await drain.flush(10_000)).toBe(0);
    expect(await archive.auditOf(poll.id)).toHaveLength(2);
  });
});

describe('without an archive', () => {
  it('writes no outbox rows at all (nothing would deliver or purge them)', async () => {
    const plain = new SqlStore(pgDriver(pool), { audit: false, anonymityKey: TEST_ANONYMITY_KEY });
    const before = await plain.outboxDepth();
    const poll = buildPoll(
      { template: 'choice', title: 'No archive', options: ['A', 'B'], settings: { allow_add_options: true } },
      `n${Date.now().toString(36)}`,
      new Date(),
    );
    await plain.createPoll(poll, 'admin');
    // Alone and batched (concurrent casts go through lv_cast_set).
    const votes = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        plain.cast({ pollId: poll.id, questionId: 'q1', voter: webVoter(`n${i}`), optionIds: ['o1'] }),
      ),
    );
    expect(votes.every((v) => v.ok && v.changed)).toBe(true);
    await plain.addOption(poll.id, 'q1', 'C', 'emp:n1');
    await plain.closePoll(poll.id, 'admin');
    expect((await plain.readTally(poll.id))?.counts.o1).toBe(20);
    expect(await plain.auditTrail(poll.id)).toEqual([]);
    expect(await plain.outboxDepth()).toBe(before);
  });
});

describe('backoffDelay', () => {
  it('doubles after each failure up to the cap, with half of it random', () => {
    const high = () => 1;
    expect([1, 2, 3, 4, 10].map((n) => backoffDelay(n, 250, 2000, high))).toEqual([
      250, 500, 1000, 2000, 2000,
    ]);
    expect(backoffDelay(3, 250, 2000, () => 0)).toBe(500);
  });
});
