// The Archive port: the audit log of every accepted interaction and the record of each closed poll.
// Adapters: MongoDB (production) and in-memory (tests, and the shape reference). Writes reach it only through the
// Postgres outbox, so every write here is a retry-safe upsert keyed by an id that Postgres chose.
import type { Poll, Snapshot } from '../protocol/index.ts';

export interface AuditEntry {
  /** Unique per interaction (the outbox row's event id); writing the same entry twice keeps one. */
  event_id: string;
  type: 'vote' | 'retract' | 'poll_created' | 'option_added' | 'poll_closed';
  poll_id: string;
  at: string;
  question_id?: string;
  option_ids?: string[];
  previous_option_ids?: string[];
  /** False for a repeated click that chose what the voter already had. */
  changed?: boolean;
  platform?: string;
  /** Idempotency-Key or the platform's delivery id, when the interaction carried one; never for an anonymous poll. */
  delivery_id?: string | null;
  /** Voter key (`emp:123`, `slack:T:U`); never present for an anonymous poll. */
  voter?: string;
  /** Who created, closed or extended the poll (not a voter). */
  actor?: string | null;
  option_id?: string;
  label?: string;
}

/** The tally after one change, replayed from the audit entries: option id → votes, `#<question>` → ballots. */
export interface HistoryPoint {
  at: string;
  /** 1 for the first change, 2 for the next, … (not the live version, which also counts closes and added options). */
  change: number;
  counts: Record<string, number>;
}

export interface ArchivedPoll {
  poll_id: string;
  poll: Poll;
  closed_at: string | null;
  archived_at: string;
  /** The final snapshot, as the board showed it at close. */
  result: Snapshot;
  /** Tallies over time; long polls are sampled down to at most HISTORY_LIMIT points, always keeping the last. */
  history: HistoryPoint[];
}

export const HISTORY_LIMIT = 500;

export interface Archive {
  /** Creates the collections' indexes; safe to call at every start. */
  ensureIndexes(): Promise<void>;
  writeAudit(entries: AuditEntry[]): Promise<void>;
  writeArchive(polls: ArchivedPoll[]): Promise<void>;
  auditOf(pollId: string): Promise<AuditEntry[]>;
  archived(pollId: string): Promise<ArchivedPoll | null>;
  ping(): Promise<void>;
}
