// Every update of a chat tally message and every winner reply goes through here. Per message: at most one update
// per interval (1 s), the newest snapshot replaces an unsent one, and the last state sent is the newest. Per
// platform budget (Slack: workspace × method; Teams: conversation and the bot overall): a call waits until its
// budgets have room, so three busy polls in one workspace share that workspace's allowance instead of each
// spending it. Per answer: retryable failures back off exponentially with jitter (a Retry-After is obeyed),
// permanent ones end the message for good and its creator is told once. Between bot processes: a version is sent
// only by the process that claimed it in the store.
import type { ChatMessage, ChatMessageStore } from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';
import type { BudgetLimiter } from './budgets.ts';
import type { CallKind, ChatPlatform, Outcome } from './contract.ts';

export interface Backoff {
  /** The first retry's delay; each further one doubles it, up to capMs, each with ±50 % jitter. */
  baseMs: number;
  capMs: number;
  /**
   * Retryable failures in a row after which a message's pending update is dropped (a newer snapshot revives it). A
   * closed poll's last update and winner reply have no newer snapshot to come: they keep trying at capMs.
   */
  maxAttempts: number;
}

export const DEFAULT_BACKOFF: Backoff = { baseMs: 1_000, capMs: 60_000, maxAttempts: 10 };

export interface DeliveryOptions {
  platform(name: ChatMessage['platform']): ChatPlatform | undefined;
  budgets: BudgetLimiter;
  store: Pick<
    ChatMessageStore,
    'claimMessageVersion' | 'claimAnnouncement' | 'announcementMade' | 'markMessageGone'
  >;
  /** This process, for the store's version claims. */
  owner: string;
  minIntervalMs?: number;
  backoff?: Backoff;
  /** For tests: a seeded source of jitter. */
  random?: () => number;
  log: { warn(o: object, m?: string): void; info?(o: object, m?: string): void };
}

/** Counters per destination (`platform:channel`), for /metrics. */
export interface DestinationStats {
  sent: number;
  retried: number;
  dropped: number;
  rateLimited: number;
}

interface State {
  key: string;
  m: ChatMessage;
  sentVersion: number;
  pending?: Snapshot;
  /** A closed snapshot's winner reply, not yet made (claimed in the store before each attempt). */
  announce?: Snapshot;
  lastSentAt: number;
  notBefore: number;
  attempts: number;
  timer?: NodeJS.Timeout;
  inflight?: Promise<void>;
}

export const messageKey = (m: Pick<ChatMessage, 'platform' | 'channel' | 'message_id'>) =>
  `${m.platform}:${m.channel}:${m.message_id}`;

export class DeliveryEngine {
  private readonly states = new Map<string, State>();
  private readonly stats = new Map<string, DestinationStats>();
  private readonly minInterval: number;
  private readonly backoff: Backoff;
  private readonly random: () => number;
  private stopped = false;

  constructor(private readonly o: DeliveryOptions) {
    this.minInterval = o.minIntervalMs ?? 1_000;
    this.backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.random = o.random ?? Math.random;
  }

  /** The newest state for a message: sent when the message's interval, its budgets and any backoff allow. */
  offer(m: ChatMessage, snapshot: Snapshot): void {
    if (this.stopped) return;
    const key = messageKey(m);
    let s = this.states.get(key);
    if (!s) {
      s = { key, m, sentVersion: -1, lastSentAt: Number.NEGATIVE_INFINITY, notBefore: 0, attempts: 0 };
      this.states.set(key, s);
    }
    if (snapshot.version <= Math.max(s.sentVersion, s.pending?.version ?? -1)) return;
    s.pending = snapshot;
    this.schedule(s);
  }

  /** Messages waiting for an update or a reply (a gauge for /metrics). */
  queueDepth(): number {
    let n = 0;
    for (const s of this.states.values()) if (s.pending || s.announce || s.inflight) n++;
    return n;
  }

  /** 429 answers seen, all destinations. */
  get rateLimited(): number {
    let n = 0;
    for (const d of this.stats.values()) n += d.rateLimited;
    return n;
  }

  destinations(): ReadonlyMap<string, Readonly<DestinationStats>> {
    return this.stats;
  }

  /** Forgets the messages of polls this process no longer delivers (its lease went to another process). */
  forget(pollIds: Set<string>): void {
    for (const [key, s] of this.states) {
      if (!pollIds.has(s.m.poll_id)) continue;
      clearTimeout(s.timer);
      this.states.delete(key);
    }
  }

  /** Sends what is pending now, ignoring interval and backoff (drain on shutdown); budgets still apply. */
  async flush(): Promise<void> {
    for (const s of [...this.states.values()]) {
      clearTimeout(s.timer);
      s.timer = undefined;
      if (s.inflight) await s.inflight;
      if (s.pending || s.announce) await this.run(s, false);
    }
  }

  stop(): void {
    this.stopped = true;
    for (const s of this.states.values()) clearTimeout(s.timer);
    this.states.clear();
  }

  private stat(m: ChatMessage): DestinationStats {
    const d = `${m.platform}:${m.channel}`;
    let st = this.stats.get(d);
    if (!st) {
      st = { sent: 0, retried: 0, dropped: 0, rateLimited: 0 };
      this.stats.set(d, st);
    }
    return st;
  }

  private schedule(s: State): void {
    if (this.stopped || s.timer || s.inflight || (!s.pending && !s.announce)) return;
    if (this.states.get(s.key) !== s) return; // gone, dropped or forgotten meanwhile
    const due = s.pending ? Math.max(s.lastSentAt + this.minInterval, s.notBefore) : s.notBefore;
    s.timer = setTimeout(
      () => {
        s.timer = undefined;
        void this.run(s, true);
      },
      Math.max(0, due - Date.now()),
    );
  }

  private delay(attempts: number, retryAfterMs?: number): number {
    if (retryAfterMs !== undefined) return retryAfterMs + Math.floor(this.random() * 250);
    const exp = Math.min(this.backoff.capMs, this.backoff.baseMs * 2 ** (attempts - 1));
    return Math.round(exp * (0.5 + this.random() * 0.5));
  }

  private run(s: State, reschedule: boolean): Promise<void> {
    if (s.inflight) return s.inflight;
    s.inflight = (async () => {
      try {
        if (s.pending) await this.update(s);
        else if (s.announce) await this.reply(s);
      } catch (err) {
        // A store error (claims) or a bug: back off like a retryable failure, keep the state.
        this.o.log.warn({ err: String(err), message: s.key }, 'chat delivery failed');
        s.attempts++;
        s.notBefore = Date.now() + this.delay(s.attempts);
      } finally {
        s.inflight = undefined;
      }
      if (reschedule) this.schedule(s);
    })();
    return s.inflight;
  }

  /** Waits for room in every budget of the call; false (and rescheduled) when there is none yet. */
  private async budgeted(s: State, platform: ChatPlatform, call: CallKind): Promise<boolean> {
    const taken = await this.o.budgets.take(platform.budgets(s.m, call));
    if (taken.ok) return true;
    // Spread the waiters over a quarter second so they do not all ask the budget again at the same instant.
    s.notBefore = Date.now() + taken.retryAfterMs + Math.floor(this.random() * 250);
    return false;
  }

  private async update(s: State): Promise<void> {
    const snapshot = s.pending as Snapshot;
    const platform = this.o.platform(s.m.platform);
    if (!platform) return void this.states.delete(s.key);
    if (!(await this.budgeted(s, platform, 'update'))) return;
    if (!(await this.o.store.claimMessageVersion(s.m, snapshot.version, this.o.owner))) {
      // Another process sent this version or a newer one (or the message is gone): nothing to do for it. Its winner
      // reply may still be owed: that process may have died before making it (the claim says).
      s.sentVersion = Math.max(s.sentVersion, snapshot.version);
      if (s.pending === snapshot) s.pending = undefined;
      if (snapshot.status === 'closed') s.announce = snapshot;
      return;
    }
    if (s.pending === snapshot) s.pending = undefined;
    const outcome = await safely(() => platform.update(s.m, snapshot));
    // The interval counts from when the platform answered: it measures arrivals.
    s.lastSentAt = Date.now();
    if (outcome.ok) {
      s.attempts = 0;
      s.sentVersion = Math.max(s.sentVersion, snapshot.version);
      this.stat(s.m).sent++;
      if (snapshot.status === 'closed') s.announce = snapshot;
      return;
    }
    if (outcome.kind === 'permanent') return this.gone(s, platform, outcome.reason);
    await this.pauseOn429(platform, s, 'update', outcome);
    this.retryLater(s, outcome, snapshot);
  }

  /** A 429 throttles the whole budget (workspace × method, or the conversation), not only this message. */
  private async pauseOn429(
    platform: ChatPlatform,
    s: State,
    call: CallKind,
    outcome: Extract<Outcome, { kind: 'retry' }>,
  ): Promise<void> {
    if (outcome.rateLimited && outcome.retryAfterMs)
      await this.o.budgets.pause(platform.budgets(s.m, call), outcome.retryAfterMs);
  }

  private async reply(s: State): Promise<void> {
    const snapshot = s.announce as Snapshot;
    const platform = this.o.platform(s.m.platform);
    if (!platform) return void this.states.delete(s.key);
    // Claimed before each attempt: made already, or another live process has it, and it is not ours to make.
    if (!(await this.o.store.claimAnnouncement(s.m, this.o.owner))) {
      s.announce = undefined;
      return this.done(s);
    }
    if (!(await this.budgeted(s, platform, 'reply'))) return;
    const outcome = await safely(() => platform.announceWinner(s.m, snapshot));
    if (outcome.ok) {
      s.announce = undefined;
      s.attempts = 0;
      this.stat(s.m).sent++;
      this.done(s);
      // Recorded after the send, never before: a process that dies in between leaves the reply owed, not lost (the
      // next holder of the poll makes it, at worst a second time).
      await this.o.store
        .announcementMade(s.m)
        .catch((err: unknown) =>
          this.o.log.warn({ err: String(err), message: s.key }, 'recording a winner reply as made failed'),
        );
      return;
    }
    if (outcome.kind === 'permanent') return this.gone(s, platform, outcome.reason);
    await this.pauseOn429(platform, s, 'reply', outcome);
    this.retryLater(s, outcome);
  }

  /** A closed poll's message with nothing left to send: its state goes (a process runs for months). */
  private done(s: State): void {
    if (s.pending || s.announce) return;
    clearTimeout(s.timer);
    if (this.states.get(s.key) === s) this.states.delete(s.key);
  }

  /** Messages this engine keeps state for (for tests and /metrics). */
  tracked(): number {
    return this.states.size;
  }

  private retryLater(s: State, outcome: Extract<Outcome, { kind: 'retry' }>, snapshot?: Snapshot): void {
    const st = this.stat(s.m);
    s.attempts++;
    if (outcome.rateLimited) st.rateLimited++;
    if (s.attempts > this.backoff.maxAttempts) {
      // A closed poll's last update and its winner reply: no later change will bring them back, so past the cap
      // they go on at the longest backoff instead of being dropped.
      const last = snapshot ? snapshot.status === 'closed' : s.announce !== undefined;
      if (!last) {
        st.dropped++;
        this.o.log.warn(
          { message: s.key, reason: outcome.reason, attempts: s.attempts - 1 },
          'chat delivery gave up for now; the next change tries again',
        );
        s.attempts = 0;
        s.pending = undefined;
        s.announce = undefined;
        return;
      }
      if (s.attempts === this.backoff.maxAttempts + 1)
        this.o.log.warn(
          { message: s.key, reason: outcome.reason, attempts: s.attempts - 1 },
          "a closed poll's message still fails; it is tried again every minute or so",
        );
    }
    st.retried++;
    if (snapshot && !s.pending) s.pending = snapshot;
    s.notBefore = Date.now() + this.delay(s.attempts, outcome.retryAfterMs);
  }

  private async gone(s: State, platform: ChatPlatform, reason: string): Promise<void> {
    clearTimeout(s.timer);
    this.states.delete(s.key);
    this.stat(s.m).dropped++;
    if (!(await this.o.store.markMessageGone(s.m, reason))) return;
    this.o.log.info?.({ message: s.key, reason }, 'chat message is gone for good; its creator is told');
    if (!platform.tellCreator) return;
    const told = await safely(() => platform.tellCreator?.(s.m, reason) as Promise<Outcome>);
    if (!told.ok) this.o.log.warn({ message: s.key, reason: told.reason }, 'telling the poll creator failed');
  }
}

/** A platform call that threw despite the contract: a network-level failure, retryable. */
async function safely(call: () => Promise<Outcome>): Promise<Outcome> {
  try {
    return await call();
  } catch (err) {
    return { ok: false, kind: 'retry', reason: String((err as Error)?.message ?? err) };
  }
}
