// Archive adapter in memory: the reference for what the Mongo adapter stores, and the test double for drain tests.
// `down` makes every call fail the way an unreachable MongoDB would.
import type { Archive, ArchivedPoll, AuditEntry } from '../ports/archive.ts';

export class MemoryArchive implements Archive {
  readonly audit = new Map<string, AuditEntry>();
  readonly polls = new Map<string, ArchivedPoll>();
  /** Write calls that reached the archive (accepted or not), to see retries and batching. */
  writes = 0;
  down: Error | null = null;

  private check(): void {
    if (this.down) throw this.down;
  }

  async ensureIndexes(): Promise<void> {
    this.check();
  }

  async writeAudit(entries: AuditEntry[]): Promise<void> {
    this.writes++;
    this.check();
    for (const e of entries) if (!this.audit.has(e.event_id)) this.audit.set(e.event_id, structuredClone(e));
  }

  async writeArchive(polls: ArchivedPoll[]): Promise<void> {
    this.writes++;
    this.check();
    for (const p of polls) this.polls.set(p.poll_id, structuredClone(p));
  }

  async auditOf(pollId: string): Promise<AuditEntry[]> {
    this.check();
    return [...this.audit.values()]
      .filter((e) => e.poll_id === pollId)
      .sort((a, b) => a.at.localeCompare(b.at) || a.event_id.localeCompare(b.event_id));
  }

  async archived(pollId: string): Promise<ArchivedPoll | null> {
    this.check();
    return structuredClone(this.polls.get(pollId) ?? null);
  }

  async ping(): Promise<void> {
    this.check();
  }
}
