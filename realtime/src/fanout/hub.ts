// Per-instance fan-out: turns "poll P is at version V" (from the event path: this instance's commits and reads, and
// other instances' through the bus) into wire messages for every local subscriber (WebSocket or SSE). A poll is
// watched on the bus exactly while it has a subscriber here. Broadcasts per poll are paced by a token bucket:
// a few go out back to back, then at most one per coalesceMs (50 ms: 20/s sustained), and changes that arrive
// meanwhile merge into the next one. A steady stream below that rate is therefore never delayed, and a burst costs
// ~20 broadcasts/s however many votes it holds. Each message is serialised once.
// A broadcast is one `vote_update` frame per subscriber, carrying leader changes and presence when they moved
// (snapshot-frames.ts); only the original client's connections also get its per-option frames. Presence that
// changes between votes goes out on its own at most once a second per poll.
// A subscriber whose buffer is full is skipped and, once it drains, gets the newest whole snapshot.
import { randomBytes } from 'node:crypto';
import { type Bus, type EventPath, Pace, type PollStore } from '@livevote/core';
import type { PresenceCounts, ServerFrame, Snapshot } from '@livevote/core/protocol';
import { PreparedFrame } from './prepared-frame.ts';
import { Presence } from './presence.ts';
import { closedFrame, optionFrames, voteUpdateFrame } from './snapshot-frames.ts';

/** A presence change with no broadcast to ride on goes out on its own at most this often per poll. */
export const PRESENCE_EVERY_MS = 1_000;

export interface Subscriber {
  readonly id: string;
  /**
   * A connection of the original lunch-vote client (it named no poll): it also gets `place_vote` / `menu_vote`
   * for each option that changed. Everyone else gets one `vote_update` per broadcast.
   */
  readonly originalClient?: boolean;
  /** Writes the frames unless the subscriber is backed up; false means "skipped, catch me up later". */
  deliver(frames: PreparedFrame[]): boolean;
  /** Whether a backed-up subscriber has drained enough to take the newest snapshot. */
  drained(): boolean;
  /**
   * Ends the subscriber's connection when this process stops (an SSE stream: its client reconnects elsewhere after
   * `retry`). WebSockets are closed by the gateway instead (1012).
   */
  end?(): void;
}

interface Channel {
  readonly pollId: string;
  readonly subs: Set<Subscriber>;
  sent?: Snapshot;
  pending?: Snapshot;
  /** When the oldest snapshot merged into `pending` arrived (for the fan-out latency metric). */
  pendingSince?: number;
  loading?: Promise<Snapshot | null>;
  /** Broadcasts back to back up to `burst`, then one per coalesceMs. */
  pace: Pace;
  timer?: NodeJS.Timeout;
  /** This poll's interest on the bus: confirmed once `ready` resolves; released when the last subscriber leaves. */
  watch: { ready: Promise<void>; release: () => void };
  presenceSent?: { online: number; voting: number };
  /** When presence last went to this poll's subscribers, alone or inside a broadcast (performance.now()). */
  presenceAt: number;
  /** The broadcast being written, slice by slice; the next one waits for it, so every socket gets them in order. */
  writing?: Writing;
}

interface Writing {
  frames: PreparedFrame[];
  /** The original client's frames (built on first use). */
  original: () => PreparedFrame[];
  /** Who was subscribed when it began; those who left meanwhile are skipped, newcomers got it when they joined. */
  subs: Subscriber[];
  next: number;
  /** When its snapshot arrived, and how long building and writing it took (ms). */
  since: number;
  frameMs: number;
  writeMs: number;
  immediate?: NodeJS.Immediate;
}

export interface HubOptions {
  polls: Pick<PollStore, 'versions'>;
  /** Presence counts travel on the bus directly; snapshots come through the event path. */
  bus: Bus;
  events: EventPath;
  /** One broadcast per this many ms, sustained: 50 ms = at most 20 snapshots/s per poll on average. */
  coalesceMs?: number;
  /** Broadcasts allowed back to back before the pace applies (absorbs jitter in a steady stream). */
  burst?: number;
  /** How often versions are re-read from the store to catch a lost bus message. */
  sweepMs?: number;
  /**
   * A broadcast writes to sockets for at most this long before it lets the event loop run (votes, bus messages,
   * other polls) and goes on at the next turn: thousands of sockets never hold an instance for long at once.
   */
  sliceMs?: number;
  /**
   * After broadcasts that spent w ms writing to sockets, no poll's next broadcast starts for restFactor × w ms
   * (instance-wide): fan-out then holds at most 1 / (1 + restFactor) of the instance's time (default 1: half),
   * and the rest stays free for votes, bus messages and new connections. A light broadcast (tens of sockets) rests
   * for well under a millisecond; a heavy one (thousands of sockets, or a busy machine stretching each write)
   * makes the changes that arrive meanwhile merge into fewer, larger steps instead of queueing behind each other.
   */
  restFactor?: number;
  onError?: (err: unknown) => void;
  /** After each broadcast: seconds from the snapshot's arrival until the last subscriber's write (metrics). */
  onFanout?: (seconds: number, subscribers: number) => void;
}

export class Hub {
  readonly instance = randomBytes(6).toString('hex');
  readonly presence: Presence;
  private readonly channels = new Map<string, Channel>();
  private readonly behind = new Map<Subscriber, Set<string>>();
  private readonly presenceDirty = new Set<string>();
  private readonly coalesceMs: number;
  private readonly burst: number;
  private readonly sliceMs: number;
  private readonly restFactor: number;
  /** No broadcast starts before this (performance.now()): see HubOptions.restFactor. */
  private restUntil = 0;
  private readonly stops: (() => void)[] = [];
  /** Frames handed to subscribers' sockets since start (for /metrics). */
  framesSent = 0;
  /** Broadcasts since start, and the seconds spent building their frames and writing them (for /metrics). */
  readonly broadcastCost = { broadcasts: 0, frameSeconds: 0, writeSeconds: 0 };

  constructor(private readonly o: HubOptions) {
    this.coalesceMs = o.coalesceMs ?? 50;
    this.burst = o.burst ?? 3;
    this.sliceMs = o.sliceMs ?? 2;
    this.restFactor = o.restFactor ?? 1;
    this.presence = new Presence(o.bus, this.instance, (pollId) => this.presenceDirty.add(pollId));
  }

  start(): void {
    this.stops.push(
      this.o.bus.subscribe((e) => {
        if (e.type === 'presence') this.presence.receive(e);
      }),
      this.o.events.subscribe((s) => this.offer(s)),
      this.o.events.onReconnect(() => void this.recover()),
    );
    const catchUp = setInterval(() => this.catchUp(), 100);
    const presence = setInterval(() => {
      this.presence.tick();
      this.flushPresence();
    }, 250);
    const sweep = setInterval(() => void this.recover(), this.o.sweepMs ?? 5_000);
    for (const t of [catchUp, presence, sweep]) t.unref();
    this.stops.push(() => {
      clearInterval(catchUp);
      clearInterval(presence);
      clearInterval(sweep);
      for (const ch of this.channels.values()) {
        clearTimeout(ch.timer);
        clearImmediate(ch.writing?.immediate);
        ch.watch.release();
      }
    });
  }

  stop(): void {
    for (const s of this.stops.splice(0)) s();
    for (const ch of this.channels.values()) for (const sub of ch.subs) sub.end?.();
  }

  /** Adds a subscriber to a poll (synchronously) and returns the poll's online count including it. */
  join(sub: Subscriber, pollId: string): number {
    let ch = this.channels.get(pollId);
    if (!ch) {
      ch = {
        pollId,
        subs: new Set(),
        pace: new Pace(this.coalesceMs, this.burst),
        watch: this.o.events.watch(pollId),
        presenceAt: Number.NEGATIVE_INFINITY,
      };
      this.channels.set(pollId, ch);
    }
    ch.subs.add(sub);
    this.presence.setOnline(pollId, ch.subs.size);
    return this.presence.totals(pollId).online;
  }

  /**
   * Sends the subscriber the poll's current snapshot unless it already has `knownVersion` or newer.
   * Returns false (and removes the subscriber) when the poll does not exist.
   */
  async sendCurrent(sub: Subscriber, pollId: string, knownVersion?: number): Promise<boolean> {
    const ch = this.channels.get(pollId);
    if (!ch) return false;
    if (!ch.sent) {
      // Read only once the bus confirmed the interest: a change committed elsewhere after our read is then heard.
      ch.loading ??= ch.watch.ready
        .then(() => this.o.events.refresh(pollId))
        .finally(() => {
          ch.loading = undefined;
        });
      const loaded = await ch.loading;
      if (!loaded) {
        this.leave(sub, pollId);
        return false;
      }
      // Re-read after the await: a bus event may have set a newer one meanwhile.
      const meanwhile = ch.sent as Snapshot | undefined;
      if (!meanwhile || loaded.version > meanwhile.version) ch.sent = loaded;
    }
    const current = ch.sent as Snapshot;
    const presence = this.presenceCounts(pollId);
    if (ch.subs.has(sub) && (knownVersion === undefined || current.version > knownVersion)) {
      // One frame: the snapshot with the audience in it.
      this.send(sub, pollId, [
        new PreparedFrame(voteUpdateFrame(undefined, current, presence), current.version),
      ]);
    } else {
      sub.deliver([new PreparedFrame({ type: 'presence', data: { poll_id: pollId, ...presence } })]);
    }
    return true;
  }

  /** Reads the poll again (a client saw a gap) and sends the subscriber the result if it is newer than it has. */
  async resync(sub: Subscriber, pollId: string, knownVersion?: number): Promise<boolean> {
    const fresh = await this.o.events.refresh(pollId); // news goes to every subscriber through offer()
    if (!fresh) return false;
    const ch = this.channels.get(pollId);
    if (ch && (!ch.sent || fresh.version > ch.sent.version) && !ch.pending) ch.sent = fresh;
    if (knownVersion === undefined || fresh.version > knownVersion) {
      this.send(sub, pollId, [new PreparedFrame({ type: 'vote_update', data: fresh }, fresh.version)]);
    }
    return true;
  }

  leave(sub: Subscriber, pollId: string): void {
    const ch = this.channels.get(pollId);
    if (!ch?.subs.delete(sub)) return;
    this.behind.get(sub)?.delete(pollId);
    this.presence.setOnline(pollId, ch.subs.size);
    if (ch.subs.size === 0) {
      clearTimeout(ch.timer);
      clearImmediate(ch.writing?.immediate);
      ch.watch.release();
      this.channels.delete(pollId);
    }
  }

  leaveAll(sub: Subscriber): void {
    for (const [pollId, ch] of this.channels) if (ch.subs.has(sub)) this.leave(sub, pollId);
    this.behind.delete(sub);
    this.presence.forget(sub.id);
  }

  voting(sub: Subscriber, pollId: string): void {
    if (this.channels.get(pollId)?.subs.has(sub)) this.presence.voting(pollId, sub.id);
  }

  onlineCount(pollId: string): number {
    return this.presence.totals(pollId).online;
  }

  subscribers(): number {
    let n = 0;
    for (const ch of this.channels.values()) n += ch.subs.size;
    return n;
  }

  /** A newer snapshot of a poll someone here watches: send now, or merge into the next send. */
  offer(snapshot: Snapshot): void {
    const ch = this.channels.get(snapshot.poll_id);
    if (!ch) return;
    const newest = Math.max(ch.sent?.version ?? -1, ch.pending?.version ?? -1);
    if (snapshot.version <= newest) return;
    if (!ch.sent) {
      ch.sent = snapshot; // nobody has been sent anything yet; sendCurrent will use it
      return;
    }
    ch.pending = snapshot;
    ch.pendingSince ??= performance.now();
    this.schedule(ch);
  }

  /** Sends what is pending now or when the pace allows, unless a timer or a broadcast in progress will. */
  private schedule(ch: Channel): void {
    if (!ch.pending || ch.timer || ch.writing) return;
    const wait = Math.max(ch.pace.wait(), this.restUntil - performance.now());
    if (wait <= 0) this.flush(ch);
    else
      ch.timer = setTimeout(() => {
        ch.timer = undefined;
        this.schedule(ch); // another poll's broadcast may have pushed the rest further meanwhile
      }, wait);
  }

  /** Re-reads the versions of every watched poll and pulls any that moved without us hearing (bus outage). */
  async recover(): Promise<void> {
    const ids = [...this.channels.keys()];
    if (ids.length === 0) return;
    try {
      const versions = await this.o.polls.versions(ids);
      await Promise.all(
        ids.map(async (id) => {
          const ch = this.channels.get(id);
          const v = versions.get(id);
          if (!ch || v === undefined) return;
          if (v > Math.max(ch.sent?.version ?? -1, ch.pending?.version ?? -1))
            await this.o.events.refresh(id);
        }),
      );
    } catch (err) {
      this.o.onError?.(err);
    }
  }

  private flush(ch: Channel): void {
    ch.timer = undefined;
    const next = ch.pending;
    if (!next || ch.writing) return;
    ch.pending = undefined;
    const since = ch.pendingSince ?? performance.now();
    ch.pendingSince = undefined;
    const t0 = performance.now();
    const prev = ch.sent;
    const update = new PreparedFrame(voteUpdateFrame(prev, next, this.presenceChange(ch)), next.version);
    const closed = closedFrame(prev, next);
    const frames = closed ? [update, new PreparedFrame(closed, next.version)] : [update];
    // The original client's per-option frames are built only when one of its connections watches this poll.
    let original: PreparedFrame[] | undefined;
    const originalFrames = () => {
      original ??= [
        update,
        ...optionFrames(prev, next).map((f) => new PreparedFrame(f, next.version)),
        ...frames.slice(1),
      ];
      return original;
    };
    void update.wsFrame; // framed here, so the write loop below only writes
    ch.sent = next;
    ch.pace.take();
    ch.writing = {
      frames,
      original: originalFrames,
      subs: [...ch.subs],
      next: 0,
      since,
      frameMs: performance.now() - t0,
      writeMs: 0,
    };
    this.writeSlice(ch);
  }

  /** Writes the broadcast in progress to sockets for up to sliceMs, then again at the next turn of the loop. */
  private writeSlice(ch: Channel): void {
    const w = ch.writing;
    if (!w || this.channels.get(ch.pollId) !== ch) return; // everyone left meanwhile
    w.immediate = undefined;
    const start = performance.now();
    let now = start;
    while (w.next < w.subs.length) {
      const sub = w.subs[w.next++] as Subscriber;
      if (ch.subs.has(sub)) this.send(sub, ch.pollId, sub.originalClient ? w.original() : w.frames);
      now = performance.now();
      if (now - start >= this.sliceMs) break;
    }
    w.writeMs += now - start;
    if (w.next < w.subs.length) {
      w.immediate = setImmediate(() => this.writeSlice(ch));
      return;
    }
    ch.writing = undefined;
    this.restUntil = Math.max(this.restUntil, now) + w.writeMs * this.restFactor;
    this.broadcastCost.broadcasts++;
    this.broadcastCost.frameSeconds += w.frameMs / 1000;
    this.broadcastCost.writeSeconds += w.writeMs / 1000;
    this.o.onFanout?.((now - w.since) / 1000, w.subs.length);
    this.schedule(ch); // a newer snapshot that arrived meanwhile
  }

  private presenceCounts(pollId: string): PresenceCounts {
    const { online, voting } = this.presence.totals(pollId);
    return { online_count: online, voting_count: voting };
  }

  /** The poll's presence when it changed since its subscribers last heard it (and records it as heard). */
  private presenceChange(ch: Channel): PresenceCounts | undefined {
    const { online, voting } = this.presence.totals(ch.pollId);
    if (ch.presenceSent?.online === online && ch.presenceSent.voting === voting) return undefined;
    ch.presenceSent = { online, voting };
    ch.presenceAt = performance.now();
    return { online_count: online, voting_count: voting };
  }

  private send(sub: Subscriber, pollId: string, frames: PreparedFrame[]): void {
    if (this.behind.get(sub)?.has(pollId)) return; // it gets the newest snapshot when it drains
    if (sub.deliver(frames)) this.framesSent += frames.length;
    else {
      let polls = this.behind.get(sub);
      if (!polls) {
        polls = new Set();
        this.behind.set(sub, polls);
      }
      polls.add(pollId);
    }
  }

  private catchUp(): void {
    for (const [sub, polls] of this.behind) {
      if (!sub.drained()) continue;
      this.behind.delete(sub);
      for (const pollId of polls) {
        const s = this.channels.get(pollId)?.sent;
        // It may have missed presence too (it rides on broadcasts): the catch-up carries the current one.
        if (s)
          this.send(sub, pollId, [
            new PreparedFrame(voteUpdateFrame(undefined, s, this.presenceCounts(pollId)), s.version),
          ]);
      }
    }
  }

  /**
   * Presence that changed with no broadcast to carry it: on its own, at most once per PRESENCE_EVERY_MS per poll
   * (a change within that time waits for the next broadcast or the next allowed slot).
   */
  private flushPresence(): void {
    const now = performance.now();
    for (const pollId of this.presenceDirty) {
      const ch = this.channels.get(pollId);
      if (!ch) {
        this.presenceDirty.delete(pollId);
        continue;
      }
      if (now - ch.presenceAt < PRESENCE_EVERY_MS) continue; // stays dirty
      this.presenceDirty.delete(pollId);
      const presence = this.presenceChange(ch);
      if (!presence) continue;
      const frame: ServerFrame = { type: 'presence', data: { poll_id: pollId, ...presence } };
      const prepared = [new PreparedFrame(frame)];
      // Presence is best-effort: a backed-up client skips it (its catch-up snapshot carries the current one).
      for (const sub of ch.subs) if (sub.deliver(prepared)) this.framesSent++;
    }
  }
}
