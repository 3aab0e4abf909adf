// The one path a change takes after its commit: read the fresh snapshot once, publish it on the bus for the other
// instances and hand it to this process's subscribers (the fan-out hub, the chat tally sync). Snapshots arriving from
// the bus join the same path, so a subscriber gets each version of a poll once, whatever its source.
//
// Publishing is paced per poll like the hub's broadcasts: a few go out back to back, then at most one per
// `publishEveryMs`, and snapshots that arrive meanwhile merge into the next one. A burst of votes therefore costs
// the bus (and every instance that parses it) ~20 messages a second per poll, not one per vote.
//
// Interest: the bus delivers a poll's events here only while a subscriber watches that poll (ref-counted).
import type { Bus, BusEvent } from '../ports/bus.ts';
import type { PollTally } from '../ports/store.ts';
import type { Snapshot } from '../protocol/index.ts';
import { Pace } from './pace.ts';
import type { Snapshots } from './snapshots.ts';

export type SnapshotListener = (snapshot: Snapshot) => void;

export interface EventPathOptions {
  snapshots: Snapshots;
  bus: Bus;
  /** Sustained pace of publishes per poll: 50 ms = at most 20 a second on average. */
  publishEveryMs?: number;
  /** Publishes allowed back to back before the pace applies. */
  burst?: number;
  /** Each snapshot received from the bus: seconds since it was published (metrics; clocks of one host agree). */
  onBusDelay?: (seconds: number) => void;
}

interface Outgoing {
  pace: Pace;
  pending?: Snapshot;
  definitionChanged: boolean;
  timer?: NodeJS.Timeout;
  published: number;
}

/** Delivered versions are remembered for this many polls; listeners keep their own version checks beyond it. */
const MAX_REMEMBERED = 5_000;

export class EventPath {
  private readonly listeners = new Set<SnapshotListener>();
  private readonly delivered = new Map<string, number>();
  private readonly outgoing = new Map<string, Outgoing>();
  private readonly interest = new Map<string, { count: number; ready: Promise<void> }>();
  private readonly publishEveryMs: number;
  private readonly burst: number;
  private stopBus?: () => void;
  /** Bus messages published since start (for tests and /metrics). */
  publishes = 0;

  constructor(private readonly o: EventPathOptions) {
    this.publishEveryMs = o.publishEveryMs ?? 50;
    this.burst = o.burst ?? 3;
  }

  start(): void {
    this.stopBus ??= this.o.bus.subscribe((e) => this.receive(e));
  }

  stop(): void {
    this.stopBus?.();
    this.stopBus = undefined;
    for (const out of this.outgoing.values()) clearTimeout(out.timer);
    this.outgoing.clear();
  }

  /** Sends what is still waiting for its publish slot now (drain on shutdown). */
  async flush(): Promise<void> {
    await Promise.all(
      [...this.outgoing.entries()].map(([pollId, out]) => {
        clearTimeout(out.timer);
        out.timer = undefined;
        return this.publishPending(pollId, out);
      }),
    );
  }

  /** Every snapshot of a watched poll (and of local commits), each version once, newest only. */
  subscribe(listener: SnapshotListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts receiving a poll's changes from other instances; the returned release stops it (ref-counted). */
  watch(pollId: string): { ready: Promise<void>; release: () => void } {
    let entry = this.interest.get(pollId);
    if (!entry) {
      entry = { count: 0, ready: this.o.bus.watch(pollId) };
      this.interest.set(pollId, entry);
    }
    entry.count++;
    let released = false;
    return {
      ready: entry.ready,
      release: () => {
        if (released) return;
        released = true;
        const e = this.interest.get(pollId);
        if (!e || --e.count > 0) return;
        this.interest.delete(pollId);
        this.delivered.delete(pollId);
        void this.o.bus.unwatch(pollId);
      },
    };
  }

  watched(): string[] {
    return [...this.interest.keys()];
  }

  onReconnect(fn: () => void): () => void {
    return this.o.bus.onReconnect(fn);
  }

  /**
   * After a commit: the fresh snapshot (it includes the caller's change), delivered here and published. `tally`:
   * the counters the store already read after the commit (a cast's), else they are read now.
   * `definitionChanged` (closed, option added) drops the cached definition here and on every receiver.
   */
  async committed(
    pollId: string,
    opts: { definitionChanged?: boolean; mark?: (stage: 'snapshot') => void; tally?: PollTally } = {},
  ): Promise<Snapshot | null> {
    if (opts.definitionChanged) this.o.snapshots.forget(pollId);
    const snapshot = opts.tally
      ? await this.o.snapshots.of(pollId, opts.tally)
      : await this.o.snapshots.fresh(pollId);
    if (!snapshot) return null;
    opts.mark?.('snapshot');
    // The other instances first: the bus message leaves before this process writes to its own sockets, so their
    // screens never wait for ours. Ours follow on the next turn of the event loop, after the caller has answered:
    // writing to every local socket is no part of the vote's own answer.
    this.offerPublish(snapshot, opts.definitionChanged === true);
    setImmediate(() => this.deliver(snapshot));
    return snapshot;
  }

  /**
   * A read outside a commit (a subscriber joined, a client saw a gap, recovery after a bus outage): delivered here if
   * it is news, not published (each instance recovers by itself).
   */
  async refresh(pollId: string): Promise<Snapshot | null> {
    const snapshot = await this.o.snapshots.fresh(pollId);
    if (snapshot) this.deliver(snapshot);
    return snapshot;
  }

  private receive(e: BusEvent): void {
    if (e.type !== 'poll_version') return;
    if (e.sent_at !== undefined) this.o.onBusDelay?.(Math.max(0, Date.now() - e.sent_at) / 1000);
    if (e.definition_changed) this.o.snapshots.forget(e.poll_id);
    this.deliver(e.snapshot);
  }

  private deliver(snapshot: Snapshot): void {
    const last = this.delivered.get(snapshot.poll_id);
    if (last !== undefined && snapshot.version <= last) return;
    this.delivered.delete(snapshot.poll_id); // re-insert: the map's order is recency, oldest evicted first
    this.delivered.set(snapshot.poll_id, snapshot.version);
    if (this.delivered.size > MAX_REMEMBERED)
      this.delivered.delete(this.delivered.keys().next().value as string);
    for (const l of this.listeners) l(snapshot);
  }

  private offerPublish(snapshot: Snapshot, definitionChanged: boolean): void {
    let out = this.outgoing.get(snapshot.poll_id);
    if (!out) {
      out = { pace: new Pace(this.publishEveryMs, this.burst), definitionChanged: false, published: -1 };
      this.outgoing.set(snapshot.poll_id, out);
    }
    if (snapshot.version <= Math.max(out.published, out.pending?.version ?? -1)) return;
    out.pending = snapshot;
    out.definitionChanged ||= definitionChanged;
    if (out.timer) return;
    const wait = out.pace.wait();
    if (wait <= 0) void this.publishPending(snapshot.poll_id, out);
    else
      out.timer = setTimeout(() => {
        if (out) {
          out.timer = undefined;
          void this.publishPending(snapshot.poll_id, out);
        }
      }, wait);
  }

  private async publishPending(pollId: string, out: Outgoing): Promise<void> {
    const snapshot = out.pending;
    if (!snapshot) return;
    out.pending = undefined;
    const definitionChanged = out.definitionChanged;
    out.definitionChanged = false;
    out.published = snapshot.version;
    out.pace.take();
    this.publishes++;
    // A poll quiet long enough to have refilled its bucket needs no state: forget it (bounded memory).
    setTimeout(
      () => {
        if (!out.pending && !out.timer && out.pace.idle() && this.outgoing.get(pollId) === out)
          this.outgoing.delete(pollId);
      },
      this.publishEveryMs * this.burst + 1,
    ).unref();
    await this.o.bus.publish({
      type: 'poll_version',
      poll_id: pollId,
      version: snapshot.version,
      snapshot,
      ...(definitionChanged ? { definition_changed: true } : {}),
      sent_at: Date.now(),
    });
  }
}
