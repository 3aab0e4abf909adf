// Archive adapter for MongoDB through a caller-owned `Db` (official driver). Every write is an upsert keyed by an
// id Postgres chose, so the outbox drainer may repeat a batch after a crash without duplicating anything.
import type { Collection, Db } from 'mongodb';
import type { Archive, ArchivedPoll, AuditEntry } from '../ports/archive.ts';

type AuditDoc = Omit<AuditEntry, 'event_id' | 'at'> & { _id: string; at: Date };
type ArchiveDoc = Omit<ArchivedPoll, 'poll_id' | 'closed_at' | 'archived_at'> & {
  _id: string;
  closed_at: Date | null;
  archived_at: Date;
};

export const AUDIT_COLLECTION = 'audit_log';
export const ARCHIVE_COLLECTION = 'poll_archive';

export class MongoArchive implements Archive {
  private readonly auditLog: Collection<AuditDoc>;
  private readonly archive: Collection<ArchiveDoc>;

  constructor(private readonly db: Db) {
    this.auditLog = db.collection<AuditDoc>(AUDIT_COLLECTION);
    this.archive = db.collection<ArchiveDoc>(ARCHIVE_COLLECTION);
  }

  async ensureIndexes(): Promise<void> {
    await this.auditLog.createIndexes([
      { key: { poll_id: 1, at: 1 }, name: 'poll_time' },
      // "Everything this person did", only where a voter is named (never in anonymous polls).
      {
        key: { voter: 1, at: -1 },
        name: 'voter_time',
        partialFilterExpression: { voter: { $exists: true } },
      },
      {
        key: { delivery_id: 1 },
        name: 'delivery',
        partialFilterExpression: { delivery_id: { $type: 'string' } },
      },
    ]);
    await this.archive.createIndexes([{ key: { closed_at: -1 }, name: 'closed_recent' }]);
  }

  async writeAudit(entries: AuditEntry[]): Promise<void> {
    if (entries.length === 0) return;
    await this.auditLog.bulkWrite(
      entries.map(({ event_id, at, ...rest }) => ({
        updateOne: {
          filter: { _id: event_id },
          update: { $setOnInsert: { ...rest, at: new Date(at) } },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  async writeArchive(polls: ArchivedPoll[]): Promise<void> {
    if (polls.length === 0) return;
    await this.archive.bulkWrite(
      polls.map(({ poll_id, closed_at, archived_at, ...rest }) => ({
        replaceOne: {
          filter: { _id: poll_id },
          replacement: {
            ...rest,
            closed_at: closed_at === null ? null : new Date(closed_at),
            archived_at: new Date(archived_at),
          },
          upsert: true,
        },
      })),
      { ordered: false },
    );
  }

  async auditOf(pollId: string): Promise<AuditEntry[]> {
    const docs = await this.auditLog.find({ poll_id: pollId }).sort({ at: 1, _id: 1 }).toArray();
    return docs.map(({ _id, at, ...rest }) => ({ ...rest, event_id: _id, at: at.toISOString() }));
  }

  async archived(pollId: string): Promise<ArchivedPoll | null> {
    const doc = await this.archive.findOne({ _id: pollId });
    if (!doc) return null;
    const { _id, closed_at, archived_at, ...rest } = doc;
    return {
      ...rest,
      poll_id: _id,
      closed_at: closed_at?.toISOString() ?? null,
      archived_at: archived_at.toISOString(),
    };
  }

  async ping(): Promise<void> {
    await this.db.command({ ping: 1 });
  }
}
