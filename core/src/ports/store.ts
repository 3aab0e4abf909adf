// The Store port: durable polls, ballots and tallies. Adapters: Postgres (pg) and embedded PGlite, one contract suite.
import type { TallyCounts } from '../domain/tally.ts';
import type { Voter } from '../domain/voter.ts';
import type { DirectoryHeldElsewhere, Poll, PollSummary } from '../protocol/index.ts';
import type { LunchStore } from './lunch-store.ts';

export interface CastCommand {
  pollId: string;
  questionId: string;
  voter: Voter;
  /** Empty retracts the voter's ballot in this question. */
  optionIds: string[];
  /**
   * Idempotency-Key or platform delivery id; a repeat returns the first outcome and changes nothing. Keys expire
   * after the store's TTL (24 hours by default): a repeat after that counts as a new cast.
   */
  idempotencyKey?: string;
  /**
   * `optionIds` holds one option, added to the voter's choices in this question or taken off them, atomically, from
   * the ballot as it is when the store applies it (a multi-choice button). The outcome's optionIds is the set after.
   */
  toggle?: boolean;
}

/** One consistent read of a poll's counters, with how many options the poll had then (a stale definition shows). */
export type PollTally = TallyCounts & { optionCount: number };

export type CastOutcome =
  | {
      ok: true;
      changed: boolean;
      replayed: boolean;
      optionIds: string[];
      /**
       * The poll's counters read after this cast's commit (so with it in), when the store read them in the same
       * round trip; absent, the caller reads them itself.
       */
      tally?: PollTally;
    }
  | {
      ok: false;
      reason:
        | 'unknown_poll'
        | 'unknown_question'
        | 'unknown_option'
        | 'poll_closed'
        | 'too_many_choices'
        | 'duplicate_option'
        | 'idempotency_key_reused';
    };

export type AddOptionOutcome =
  | { ok: true; optionId: string }
  | {
      ok: false;
      reason:
        | 'unknown_poll'
        | 'unknown_question'
        | 'poll_closed'
        | 'adding_options_disabled'
        | 'option_exists';
    };

export interface BallotRow {
  cast_at: string;
  question_id: string;
  option_id: string;
  label: string;
  /** Absent for anonymous polls. */
  voter?: string;
  platform?: string;
}

export interface DirectoryEntry {
  platform: Voter['platform'];
  tenant: string;
  user: string;
  emp_no: string;
}

export interface ChatMessage {
  platform: 'slack' | 'teams';
  channel: string;
  message_id: string;
  poll_id: string;
  meta: Record<string, unknown>;
}

/** Which polls to list: newest first. */
export interface PollQuery {
  /** Only this workspace's polls; absent: every workspace (the admin's view). */
  workspace?: string;
  template?: Poll['template'];
  /** Only polls that are open now (not closed, close time not passed). */
  openOnly?: boolean;
  limit?: number;
}

/** One pending row of the Postgres outbox: what will become an audit entry or a closed poll's archive document. */
export interface OutboxRow {
  id: number;
  event_id: string;
  kind: 'audit' | 'archive';
  poll_id: string;
  /** For audit rows, the entry (without event_id); for archive rows, empty: the drainer builds the document. */
  doc: Record<string, unknown>;
  created_at: string;
  /** How many times a drainer has taken this row, this time included. */
  attempts: number;
}

/** Poll definitions, their lifecycle and their version counters. */
export interface PollStore {
  createPoll(poll: Poll, createdBy: string | null): Promise<void>;
  listPolls(query?: PollQuery): Promise<PollSummary[]>;
  getPoll(id: string): Promise<Poll | null>;
  /** One consistent read of a poll's counters: the same version always means the same counts. */
  readTally(id: string): Promise<PollTally | null>;
  /**
   * Closes now; closing a closed poll is a no-op that still answers ok. Closing also queues the poll's archive
   * document and a `poll_closed` audit entry in the same transaction.
   */
  closePoll(
    id: string,
    closedBy?: string | null,
  ): Promise<{ ok: true; changed: boolean } | { ok: false; reason: 'unknown_poll' }>;
  /** Shows a poll's hidden results before its close (the admin's "reveal"); the version moves. */
  revealResults(
    id: string,
    by: string,
  ): Promise<{ ok: true; changed: boolean } | { ok: false; reason: 'unknown_poll' }>;
  /**
   * Deletes a poll nobody could see (its chat message could not be posted): only while it has no ballots and no
   * chat message. True when it was deleted; the audit log keeps its creation and a `poll_discarded` entry.
   */
  discardPoll(id: string, reason: string): Promise<boolean>;
  /** Marks every open poll whose close time has passed as closed; returns their ids. */
  closeDuePolls(): Promise<string[]>;
  addOption(pollId: string, questionId: string, label: string, addedBy: string): Promise<AddOptionOutcome>;
  /** Who created the poll (a voter key such as `slack:T:U`, or `admin`, `seed`), or null for an unknown poll. */
  pollCreator(pollId: string): Promise<string | null>;
  /** Current versions of the given polls (for instances catching up after a bus outage). */
  versions(pollIds: string[]): Promise<Map<string, number>>;
}

/** Ballots: casting, and reading them back where the poll allows. */
export interface BallotStore {
  cast(cmd: CastCommand): Promise<CastOutcome>;
  /**
   * The stored outcome of an earlier call with this command's Idempotency-Key (replayed: true), a refusal when the
   * key was used for a different ballot, or null when the key is unknown or expired. Reads only.
   */
  replayOf(cmd: CastCommand): Promise<CastOutcome | null>;
  exportBallots(pollId: string): Promise<BallotRow[]>;
  /** The voter's own choices in a poll, question id → option ids (so a page can show "your choice"). */
  ballotsOf(pollId: string, voter: Voter): Promise<Record<string, string[]>>;
  /** Who chose each option (voter keys such as `slack:T:U` or `emp:123`); empty for anonymous polls. */
  votersByOption(pollId: string): Promise<Record<string, string[]>>;

  /**
   * Deletes idempotency keys older than `olderThanMs`; returns how many. Expired keys already count as new in
   * `cast`, so this only keeps the table small and may run anywhere, any number of times at once.
   */
  purgeIdempotency(olderThanMs: number): Promise<number>;
}

/** Tally messages posted in chats. A message belongs to its poll's workspace. */
export interface ChatMessageStore {
  saveChatMessage(m: ChatMessage): Promise<void>;
  chatMessages(pollId: string): Promise<ChatMessage[]>;
  /** Polls with a message still to keep current: the poll is open, or its winner is not announced yet. */
  pollsWithLiveMessages(): Promise<string[]>;
  /**
   * Takes a message's winner announcement for `owner` (a bot process, which must hold the poll's delivery lease):
   * true unless it was made already, or another owner claimed it and still holds the poll's delivery lease. A claim lapses with its owner's lease, so the
   * announcement of a process that died before making it falls to the next holder of the poll; the same owner may
   * claim again (before each attempt).
   */
  claimAnnouncement(m: ChatMessageKey, owner: string): Promise<boolean>;
  /** Records the winner announcement made (after the platform took it): nobody claims it again. */
  announcementMade(m: ChatMessageKey): Promise<void>;
  /**
   * Marks a message gone for good (the platform refused it permanently): it leaves chatMessages and
   * pollsWithLiveMessages. True only for the one caller that made the mark (that one tells the creator).
   */
  markMessageGone(m: ChatMessageKey, reason: string): Promise<boolean>;
  /**
   * Claims the right to send `version` to a message: true when no process has claimed this or a newer version, or
   * when `owner` itself holds the claim on exactly this version (its own retry), or when the process that claimed
   * it no longer holds the poll's delivery lease (it died or gave the poll up, maybe before the platform took it: a
   * claim is not proof the message shows it). Fences live processes against each other.
   */
  claimMessageVersion(m: ChatMessageKey, version: number, owner: string): Promise<boolean>;
  /**
   * Takes or renews `owner`'s delivery leases on these polls for `ttlMs` (a lease another owner holds and has not let
   * expire stays theirs); returns the polls `owner` holds afterwards, of those asked for.
   */
  acquireDeliveryLeases(owner: string, pollIds: string[], ttlMs: number): Promise<string[]>;
  /** Gives up `owner`'s leases (all of them when no polls are named). */
  releaseDeliveryLeases(owner: string, pollIds?: string[]): Promise<void>;
}

export type ChatMessageKey = Pick<ChatMessage, 'platform' | 'channel' | 'message_id'>;

/**
 * Where a bot can post without being spoken to first (scheduled polls, replies after a restart): a chat
 * conversation's reference as the platform SDK normalises it. Teams: the service URL without a trailing slash, the
 * conversation, the tenant and the bot's id in it. Written only from activities whose token was validated.
 */
export interface ChatConversation {
  platform: ChatMessage['platform'];
  conversation_id: string;
  workspace: string;
  reference: ConversationReference;
}

export interface ConversationReference {
  /** No trailing slash: `https://smba.trafficmanager.net/amer`, as the SDK uses it for its own calls. */
  serviceUrl: string;
  conversationId: string;
  tenantId: string;
  botId: string;
  botName?: string;
  /** Teams: `personal`, `groupChat` or `channel`. */
  conversationType?: string;
  /** The team of a channel conversation. */
  teamId?: string;
}

/** Conversations the bot was added to, remembered from messages and installation events. */
export interface ConversationStore {
  /** Adds or refreshes a conversation (a removed one comes back). */
  saveConversation(c: ChatConversation): Promise<void>;
  /** A conversation the bot is still in, or null. */
  conversation(
    platform: ChatConversation['platform'],
    conversationId: string,
  ): Promise<ChatConversation | null>;
  /** The workspace's conversations the bot is still in, most recently seen first. */
  conversations(workspace: string): Promise<ChatConversation[]>;
  /** The bot was removed (uninstalled, or the platform said so): never post there again until it is back. */
  forgetConversation(platform: ChatConversation['platform'], conversationId: string): Promise<void>;
  /**
   * Someone acted on a poll's card (`userRef`: the platform's id for them, a Teams MRI): remembered so the card can
   * refresh itself for them (Teams refreshes a card automatically only for the users it names). Never called for
   * anonymous polls.
   */
  rememberCardUser(
    pollId: string,
    platform: ChatConversation['platform'],
    userRef: string,
    voted: boolean,
  ): Promise<void>;
  /** Up to `limit` users of a poll's card: those who voted first, then the others, most recent first in each. */
  cardUsers(pollId: string, platform: ChatConversation['platform'], limit: number): Promise<string[]>;
}

export interface DirectoryImport {
  imported: number;
  skipped: number;
  held_elsewhere: DirectoryHeldElsewhere[];
}

/** The employee directory: platform identities mapped to employee numbers, per workspace. */
export interface DirectoryStore {
  /**
   * Adds or replaces the workspace's rows. An identity another workspace already mapped is left alone and counted
   * as skipped (the first 100 named, with that workspace): one workspace's import never rewrites another's.
   */
  importDirectory(workspace: string, entries: DirectoryEntry[]): Promise<DirectoryImport>;
  directory(workspace: string): Promise<DirectoryEntry[]>;
}

/** The audit/archive outbox, written with each change and drained to the archive. */
export interface OutboxStore {
  /**
   * Takes up to `limit` unsent outbox rows, oldest first, for `leaseMs`; rows another drainer holds are skipped,
   * and rows whose drainer died come back when the lease ends.
   */
  leaseOutbox(limit: number, leaseMs: number): Promise<OutboxRow[]>;
  /** Marks rows as delivered; an archive row stamps its poll archived and purges the poll's delivered audit rows. */
  outboxSent(ids: number[]): Promise<void>;
  /**
   * Gives rows back at once (the drainer itself backs off), keeping the error for operators. With `parkAfter`,
   * the archive refused each of these rows on its own: the refusal counts against the row, and a row refused
   * `parkAfter` times is parked (kept, never leased again until retried). Returns the ids parked by this call.
   */
  outboxFailed(ids: number[], error: string, parkAfter?: number): Promise<number[]>;
  /** Rows not yet delivered and not parked (for /metrics and the drain on shutdown). */
  outboxDepth(): Promise<number>;
  /** Parked rows: refused by the archive too often, waiting for an operator (for /metrics). */
  outboxParked(): Promise<number>;
  /** Queues parked rows (all of them, or those ids) for delivery again with a fresh count; returns how many. */
  retryParkedOutbox(ids?: number[]): Promise<number>;
  /** A poll's audit entries in commit order, delivered or not: the archive's history is replayed from them. */
  auditTrail(pollId: string): Promise<Record<string, unknown>[]>;
}

/** Everything the Postgres adapters implement; a use case asks only for the focused port it needs. */
export interface Store
  extends PollStore,
    BallotStore,
    ChatMessageStore,
    ConversationStore,
    DirectoryStore,
    OutboxStore,
    LunchStore {
  ping(): Promise<void>;
}
