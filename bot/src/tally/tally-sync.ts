// Feeds every chat message that shows a poll from the bus (votes from any platform move it) and announces the
// winner once when the poll closes. One per bot process; platforms register how they update and announce.
import type { Bus, ChatMessage, Snapshots, Store } from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';
import { MessageUpdater, type SendResult } from './message-updater.ts';

export interface ChatPlatform {
  readonly name: ChatMessage['platform'];
  update(m: ChatMessage, snapshot: Snapshot): Promise<SendResult>;
  announceWinner(m: ChatMessage, snapshot: Snapshot): Promise<void>;
}

const CACHE_MS = 30_000;

export class TallySync {
  readonly updater: MessageUpdater<ChatMessage>;
  private readonly platforms = new Map<string, ChatPlatform>();
  private readonly messages = new Map<string, { at: number; list: Promise<ChatMessage[]> }>();
  private readonly stops: (() => void)[] = [];

  constructor(
    private readonly deps: {
      store: Store;
      bus: Bus;
      snapshots: Snapshots;
      log: { warn(o: object, m?: string): void };
    },
  ) {
    this.updater = new MessageUpdater<ChatMessage>({
      send: (m, s) => this.send(m, s),
      onError: (err, m) =>
        deps.log.warn({ err: String(err), platform: m.platform, poll: m.poll_id }, 'tally update failed'),
    });
  }

  register(p: ChatPlatform): void {
    this.platforms.set(p.name, p);
  }

  start(): void {
    this.stops.push(
      this.deps.bus.subscribe((e) => {
        if (e.type === 'poll_version') void this.onSnapshot(e.snapshot);
      }),
      this.deps.snapshots.observe((s) => void this.onSnapshot(s)),
    );
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
    this.updater.stop();
  }

  /** A message was just posted: remember it and bring it up to date. */
  async track(m: ChatMessage): Promise<void> {
    await this.deps.store.saveChatMessage(m);
    this.messages.delete(m.poll_id);
    const s = await this.deps.snapshots.fresh(m.poll_id);
    if (s) await this.onSnapshot(s);
  }

  private async onSnapshot(s: Snapshot): Promise<void> {
    let cached = this.messages.get(s.poll_id);
    if (!cached || Date.now() - cached.at > CACHE_MS) {
      cached = { at: Date.now(), list: this.deps.store.chatMessages(s.poll_id) };
      this.messages.set(s.poll_id, cached);
    }
    let list: ChatMessage[];
    try {
      list = await cached.list;
    } catch (err) {
      this.messages.delete(s.poll_id);
      this.deps.log.warn({ err: String(err) }, 'reading chat messages failed');
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
    if (r.ok && s.status === 'closed' && (await this.deps.store.claimAnnouncement(m))) {
      await platform.announceWinner(m, s);
    }
    return r;
  }
}
