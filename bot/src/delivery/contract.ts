// What the chat delivery engine asks of a platform (Slack, Teams): how one call went, classified, and which
// rate-limit budgets a call spends. The engine (delivery-engine.ts) owns pacing, budgets, retries and leases; a
// platform only renders, calls its API once and says what the answer means.
import type { ChatMessage } from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';

/** How one platform call went. */
export type Outcome =
  | { ok: true }
  /**
   * Try again later: 429 (with the platform's Retry-After in `retryAfterMs`), 412, 5xx, network errors, Slack's
   * `ratelimited`/`internal_error`/`fatal_error`/`service_unavailable`/`request_timeout`.
   */
  | { ok: false; kind: 'retry'; reason: string; retryAfterMs?: number; rateLimited?: boolean }
  /**
   * Never again for this message: Slack `channel_not_found`, `is_archived`, `not_in_channel`, `message_not_found`,
   * `invalid_auth`, `account_inactive`, `token_revoked`, `missing_scope`, …; Teams 403 (bot removed), 404, 413.
   */
  | { ok: false; kind: 'permanent'; reason: string };

/** One rate-limit bucket a call spends a point from: at most `points` calls per `durationMs` per `key`. */
export interface Budget {
  key: string;
  points: number;
  durationMs: number;
}

/** The kind of call, for budgets keyed by method (Slack limits per workspace × method). */
export type CallKind = 'update' | 'reply' | 'notice';

export interface ChatPlatform {
  readonly name: ChatMessage['platform'];
  /**
   * The budgets one call of this kind for this message spends, keyed the way the platform limits: Slack by
   * workspace × method (`chat.update` is Tier 3: 50 a minute per workspace); Teams per conversation (7 per 1 s,
   * 8 per 2 s, 60 per 30 s) and the bot overall.
   */
  budgets(m: ChatMessage, call: CallKind): Budget[];
  /** Replaces the message with this snapshot's state. Never throws: every failure is an Outcome. */
  update(m: ChatMessage, snapshot: Snapshot): Promise<Outcome>;
  /** Posts the winner as a reply to the message (the poll is closed). Never throws. */
  announceWinner(m: ChatMessage, snapshot: Snapshot): Promise<Outcome>;
  /** The message is gone for good (`reason` from a permanent Outcome): tell the poll's creator once, if possible. */
  tellCreator?(m: ChatMessage, reason: string): Promise<Outcome>;
}
