// Moves the Postgres outbox into the Archive (MongoDB) in batches. Votes never wait for it: they only insert outbox
// rows in their own transaction. When the archive is down the drainer backs off exponentially (with jitter) and
// the rows wait in Postgres; nothing is lost and nothing is sent twice to the same id. A row the archive refuses
// on its own (while it takes others) is set aside after a few refusals, so it cannot hold back the rows behind it.

import { replayHistory } from '../domain/history.ts';
import { buildSnapshot } from '../domain/tally.ts';
import type { Archive, ArchivedPoll, AuditEntry } from '../ports/archive.ts';
import type { OutboxRow, OutboxStore, PollStore } from '../ports/store.ts';

export interface OutboxDrainOptions {
  /** The outbox, and the poll and tally an archive document is built from. */
  store: OutboxStore & Pick<PollStore, 'getPoll' | 'readTally'>;
  archive: Archive;
  /** Rows per batch (one bulk write each for audit and archive). */
  batch?: number;
  /** How long a taken batch is reserved for this drainer; a crashed drainer's rows come back after it. */
  leaseMs?: number;
  /** Pause when the outbox is empty. */
  idleMs?: number;
  /** First and longest wait after a failure; each failure in a row doubles it. */
  minBackoffMs?: number;
  maxBackoffMs?: number;
  onError?: (err: unknown) => void;
  /** After each batch that reached the archive. */
  onDelivered?: (rows: number) => void;
  /**
   * Refusals after which a row is parked (default 10): kept with its last error but no longer sent, until an
   * operator retries it. Only refusals of the row alone count, never a batch it was in, nor an outage.
   */
  parkAfter?: number;
  /** Rows just parked, with the archive's last answer. */
  onParked?: (ids: number[], error: string) => void;
}

interface Round {
  delivered: number;
  /** Rows the archive refused on their own in this round (they go back to the queue, or are parked). */
  refused: number;
}

interface Split {
  sent: number[];
  refused: { id: number; error: string }[];
}

const message = (err: unknown): string => (err instanceof Error ? err.message : String(err));

export class OutboxDrain {
  private running = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private failures = 0;
  private indexed = false;
  /** Rows delivered by this drainer since start (for /metrics). */
  delivered = 0;
  /** Failed delivery attempts since start (for /metrics). */
  failed = 0;

  constructor(private readonly o: OutboxDrainOptions) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  /** Stops after the batch in flight; call flush() first to empty the outbox on shutdown. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Delivers until the outbox is empty or the deadline passes; returns how many rows are still pending. */
  async flush(timeoutMs: number): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      try {
        if ((await this.drainOnce()) === 0) break;
      } catch (err) {
        this.o.onError?.(err);
        break; // the archive is down: what is left stays safe in Postgres for the next process
      }
    }
    return this.o.store.outboxDepth();
  }

  /** One batch: lease, deliver, mark. Returns the rows delivered (0 when there was nothing to do). */
  async drainOnce(): Promise<number> {
    return (await this.round()).delivered;
  }

  private async round(): Promise<Round> {
    const rows = await this.o.store.leaseOutbox(this.o.batch ?? 500, this.o.leaseMs ?? 30_000);
    if (rows.length === 0) return { delivered: 0, refused: 0 };
    try {
      await this.send(rows);
    } catch (err) {
      this.failed++;
      return this.isolate(rows, err);
    }
    await this.markSent(rows.map((r) => r.id));
    return { delivered: rows.length, refused: 0 };
  }

  private async send(rows: OutboxRow[]): Promise<void> {
    const audit = rows.filter((r) => r.kind === 'audit').map(toAuditEntry);
    const polls: ArchivedPoll[] = [];
    for (const r of rows) {
      if (r.kind !== 'archive') continue;
      const doc = await this.archiveDocument(r);
      if (doc) polls.push(doc); // a poll deleted since it closed has nothing left to archive
    }
    await this.o.archive.writeAudit(audit);
    await this.o.archive.writeArchive(polls);
  }

  private async markSent(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.o.store.outboxSent(ids);
    this.delivered += ids.length;
    this.o.onDelivered?.(ids.length);
  }

  /**
   * A batch failed: the archive, or one of its rows? An archive that doesn't answer a ping, or answers but takes
   * none of the rows, is an outage: every row goes back uncounted and the drainer backs off. Otherwise the batch is
   * halved until each refused row stands alone, so the rows sharing its batch are delivered and only a row refused
   * on its own counts toward parking. Halving costs about 2·log2(batch) writes per bad row, not one per row.
   */
  private async isolate(rows: OutboxRow[], batchError: unknown): Promise<Round> {
    const split: Split = { sent: [], refused: [] };
    let outage: { error: unknown } | null = null;
    try {
      await this.o.archive.ping();
      await this.split(rows, split, { error: batchError });
    } catch (error) {
      outage = { error };
    }
    // A lone row gets the benefit of the ping alone: there is nothing else to compare it with.
    if (!outage && split.sent.length === 0 && rows.length > 1) outage = { error: batchError };
    await this.markSent(split.sent);
    if (outage) {
      const unsent = rows.filter((r) => !split.sent.includes(r.id)).map((r) => r.id);
      await this.o.store.outboxFailed(unsent, message(outage.error)).catch(() => {});
      throw outage.error;
    }
    for (const { id, error } of split.refused) {
      const parked = await this.o.store
        .outboxFailed([id], error, this.o.parkAfter ?? 10)
        .catch((): number[] => []); // the lease runs out and the row comes back: nothing is lost
      if (parked.length > 0) this.o.onParked?.(parked, error);
    }
    return { delivered: split.sent.length, refused: split.refused.length };
  }

  /** Sends `rows`, or (when that fails, or `failed` says it already did) each half of them, down to single rows. */
  private async split(rows: OutboxRow[], into: Split, failed?: { error: unknown }): Promise<void> {
    let error = failed?.error;
    if (!failed) {
      try {
        await this.send(rows);
        into.sent.push(...rows.map((r) => r.id));
        return;
      } catch (err) {
        error = err;
        // The archive may have gone away since the round began: then this is an outage (ping throws), not a row.
        await this.o.archive.ping();
      }
    }
    const [only] = rows;
    if (rows.length === 1 && only) {
      into.refused.push({ id: only.id, error: message(error) });
      return;
    }
    const half = Math.ceil(rows.length / 2);
    await this.split(rows.slice(0, half), into);
    await this.split(rows.slice(half), into);
  }

  private async archiveDocument(row: OutboxRow): Promise<ArchivedPoll | null> {
    const [poll, tally, trail] = await Promise.all([
      this.o.store.getPoll(row.poll_id),
      this.o.store.readTally(row.poll_id),
      this.o.store.auditTrail(row.poll_id),
    ]);
    if (!poll || !tally) return null;
    const entries = trail.map((doc) =>
      toAuditEntry({ event_id: String(doc.event_id), poll_id: row.poll_id, doc }),
    );
    const closed = entries.findLast((e) => e.type === 'poll_closed');
    return {
      poll_id: poll.id,
      poll,
      closed_at: closed?.at ?? row.created_at,
      archived_at: new Date().toISOString(),
      result: buildSnapshot(poll, tally),
      history: replayHistory(entries),
    };
  }

  private async run(): Promise<void> {
    while (this.running) {
      let wait = this.o.idleMs ?? 500;
      try {
        if (!this.indexed) {
          // Indexes first, once per process: the archive may be down at start, so this is retried like a batch.
          await this.o.archive.ensureIndexes().catch((err: unknown) => {
            this.failed++;
            throw err;
          });
          this.indexed = true;
        }
        const { delivered, refused } = await this.round();
        if (delivered === 0 && refused > 0) {
          // Only refused rows at the head of the queue: retry them at the failure pace, so that their refusals
          // (and parking) take a while rather than a few idle ticks, in case the cause passes.
          this.failures++;
          wait = backoffDelay(this.failures, this.o.minBackoffMs ?? 250, this.o.maxBackoffMs ?? 30_000);
        } else {
          this.failures = 0;
          if (delivered > 0) wait = 0; // more may be waiting
        }
      } catch (err) {
        this.o.onError?.(err);
        this.failures++;
        wait = backoffDelay(this.failures, this.o.minBackoffMs ?? 250, this.o.maxBackoffMs ?? 30_000);
      }
      if (wait > 0 && this.running) await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

/**
 * Wait before the next try after `failures` failures in a row: doubling from `min`, capped at `max`, with
 * "equal jitter" (half fixed, half random) so many drainers don't hit a recovering MongoDB in step.
 */
export function backoffDelay(failures: number, min: number, max: number, random = Math.random): number {
  const ceiling = Math.min(max, min * 2 ** Math.max(0, failures - 1));
  return ceiling / 2 + random() * (ceiling / 2);
}

function toAuditEntry(row: Pick<OutboxRow, 'event_id' | 'poll_id' | 'doc'>): AuditEntry {
  const doc = row.doc as Omit<AuditEntry, 'event_id'>;
  return { ...doc, event_id: row.event_id, poll_id: row.poll_id, at: new Date(doc.at).toISOString() };
}
