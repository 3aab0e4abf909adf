// The Bus port: after a commit, "poll P is now at version V" (with the snapshot) reaches the instances that care.
// Routing is by interest: an instance receives a poll's events only while it watches that poll (it has viewers or
// chat messages for it), so adding polls and instances does not make every instance parse every poll's traffic.
import type { Snapshot } from '../protocol/index.ts';

export type BusEvent =
  | {
      type: 'poll_version';
      poll_id: string;
      version: number;
      snapshot: Snapshot;
      /** The definition changed too (closed, option added): receivers drop their cached copy. */
      definition_changed?: boolean;
      /** When it was published (ms since the epoch): receivers measure the bus's delay. */
      sent_at?: number;
    }
  /** One instance's share of a poll's audience: counts only, never who. */
  | { type: 'presence'; poll_id: string; instance: string; online: number; voting: number };

export type BusHandler = (event: BusEvent) => void;

export interface Bus {
  /** Fire-and-forget: a lost message costs freshness, never a vote (the store is the truth). */
  publish(event: BusEvent): Promise<void>;
  /** Receives the events of every watched poll (including this instance's own, where the transport echoes them). */
  subscribe(handler: BusHandler): () => void;
  /** Starts receiving a poll's events; resolves once the transport confirmed. Idempotent. */
  watch(pollId: string): Promise<void>;
  /** Stops receiving a poll's events. Idempotent. */
  unwatch(pollId: string): Promise<void>;
  /** The polls this instance currently receives (for tests and /metrics). */
  watching(): ReadonlySet<string>;
  /** Called after the bus lost and regained its connection, so subscribers can re-read what they missed. */
  onReconnect(handler: () => void): () => void;
  ready(): boolean;
}
