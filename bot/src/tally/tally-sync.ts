// Keeps every chat message that shows a poll current (votes from any platform move it) and announces the winner
// once when the poll closes. One per bot process; platforms register how they update and announce. Snapshots come
// from the event path, and the bus delivers a poll here only while it has a live message (open, or closed with
// the winner not yet announced): this process watches exactly those polls.
import { type ChatMessage, type Core, isStoreUnavailable, loggableError } from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';
import { MessageUpdater, type SendResult } from './message-updater.ts';

export interface ChatPlatform {
  readonly name: ChatMessage['platform'];
  update(m: ChatMessage, snapshot: Snapshot): Promise<SendResult>;
  announceWinner(m: ChatMessage, snapshot: Snapshot): Promise<void>;
}

const CACHE_MS = 30_000;
/** How often the set of watched polls is reconciled with the store (messages another bot process posted). */
const RECONCILE_MS = 30_000;

export class TallySync {
  readonly updater: MessageUpdater<ChatMessage>;
  private readonly platforms = new Map<string, ChatPlatform>();
  private readonly messages = new Map<string, { at: number; list: Promise<ChatMessage[]> }>();
  private readonly watching = new Map<string, () => void>();
  /** Polls that track() started watching while a reconcile's read was running: that read cannot know them yet. */
  private readonly trackedDuringReconcile = new Set<string>();
  private reconciling = false;
  private readonly stops: (() => void)[] = [];

  constructor(
    private readonly deps: {
      core: Pick<Core, 'chat' | 'events'>;
      log: { warn(o: object, m?: string): void };
      /** The process's log of failed store calls: an outage is logged there, once a second. */
      storeErrors?: { report(err: unknown, what: string): boolean };
    },
  ) {
    this.updater = new MessageUpdater<ChatMessage>({
      send: (m, s) => this.send(m, s),
      onError: (err, m) => this.warn(err, 'tally update failed', { platform: m.platform, poll: m.poll_id }),
    });
  }

  private warn(err: unknown, what: string, fields: object = {}): void {
    if (this.deps.storeErrors && isStoreUnavailable(err)) this.deps.storeErrors.report(err, what);
    else {
      // One line each (these repeat every few seconds while a platform fails); a Postgres error without its values.
      const error = loggableError(err);
      this.deps.log.warn(
        { error: typeof error === 'string' ? error : { ...error, stack: undefined }, ...fields },
        what,
      );
    }
  }

  register(p: ChatPlatform): void {
    this.platforms.set(p.name, p);
  }

  async start(): Promise<void> {
    const { events } = this.deps.core;
    this.stops.push(
      events.subscribe((s) => void this.onSnapshot(s)),
      // After a bus outage, re-read every watched poll: whatever changed meanwhile reaches its messages.
      events.onReconnect(() => {
        for (const pollId of this.watching.keys()) void events.refresh(pollId).catch(() => {});
      }),
    );
    const timer = setInterval(() => void this.reconcile(), RECONCILE_MS);
    timer.unref();
    this.stops.push(() => clearInterval(timer));
    await this.reconcile();
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
    for (const release of this.watching.values()) release();
    this.watching.clear();
    this.updater.stop();
  }

  /** Polls whose messages this process keeps current (for tests and /metrics). */
  watched(): string[] {
    return [...this.watching.keys()];
  }

  /** A message was just posted: remember it, watch its poll and bring the message up to date. */
  async track(m: ChatMessage): Promise<void> {
    await this.deps.core.chat.saveChatMessage(m);
    this.messages.delete(m.poll_id);
    if (this.reconciling) this.trackedDuringReconcile.add(m.poll_id);
    await this.watch(m.poll_id);
    const s = await this.deps.core.events.refresh(m.poll_id);
    // refresh() delivers only news; a message posted after the last change still needs this version.
    if (s) await this.onSnapshot(s);
  }

  /** Watches exactly the polls that still have a live message. */
  private async reconcile(): Promise<void> {
    let live: string[];
    this.reconciling = true;
    try {
      live = await this.deps.core.chat.pollsWithLiveMessages();
    } catch (err) {
      this.warn(err, 'reading chat messages failed');
      return;
    } finally {
      this.reconciling = false;
    }
    const keep = new Set([...live, ...this.trackedDuringReconcile]);
    this.trackedDuringReconcile.clear();
    for (const [pollId, release] of this.watching) {
      if (keep.has(pollId)) continue;
      release();
      this.watching.delete(pollId);
      this.messages.delete(pollId);
    }
    await Promise.all(live.map((id) => this.watch(id)));
  }

  private async watch(pollId: string): Promise<void> {
    if (this.watching.has(pollId)) return;
    const w = this.deps.core.events.watch(pollId);
    this.watching.set(pollId, w.release);
    await w.ready;
  }

  private async onSnapshot(s: Snapshot): Promise<void> {
    if (!this.watching.has(s.poll_id)) return; // no live message of ours shows this poll
    let cached = this.messages.get(s.poll_id);
    if (!cached || Date.now() - cached.at > CACHE_MS) {
      cached = { at: Date.now(), list: this.deps.core.chat.chatMessages(s.poll_id) };
      this.messages.set(s.poll_id, cached);
    }
    let list: ChatMessage[];
    try {
      list = await cached.list;
    } catch (err) {
      this.messages.delete(s.poll_id);
      this.warn(err, 'reading chat messages failed');
      return;
    }
    for (const m of list) {
      if (!this.platforms.has(m.platform)) continue;
      this.updater.offer(`${m.platform}:${m.channel}:${m.message_id}`, m, s);
    }
  }

  private async send(m: ChatMessage, s: Snapshot): Promise<SendResult> {
    const platform = this.platforms.get(m.platform);
    if (!platform) return { ok: false, gone: true };
    const r = await platform.update(m, s);
    if (r.ok && s.status === 'closed' && (await this.deps.core.chat.claimAnnouncement(m))) {
      await platform.announceWinner(m, s);
    }
    return r;
  }
}
