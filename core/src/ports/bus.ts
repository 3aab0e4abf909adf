// The Bus port: after a commit, "poll P is now at version V" (with the snapshot) reaches every instance.
import type { Snapshot } from '../protocol/index.ts';

export type BusEvent =
  | { type: 'poll_version'; poll_id: string; version: number; snapshot: Snapshot }
  | { type: 'poll_changed'; poll_id: string }
  /** One instance's share of a poll's audience: counts only, never who. */
  | { type: 'presence'; poll_id: string; instance: string; online: number; voting: number };

export type BusHandler = (event: BusEvent) => void;

export interface Bus {
  /** Fire-and-forget: a lost message costs freshness, never a vote (the store is the truth). */
  publish(event: BusEvent): Promise<void>;
  subscribe(handler: BusHandler): () => void;
  /** Called after the bus lost and regained its connection, so subscribers can re-read what they missed. */
  onReconnect(handler: () => void): () => void;
  ready(): boolean;
}
