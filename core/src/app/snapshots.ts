// Poll definitions (cached) and tally snapshots read after commit, coalesced: concurrent callers share one read,
// and every caller gets a read that started after it asked, so its own committed change is always in it.
import { buildSnapshot } from '../domain/tally.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import type { Poll, Snapshot } from '../protocol/index.ts';

interface ReadState {
  running?: Promise<Snapshot | null>;
  queued?: Promise<Snapshot | null>;
}

const MAX_CACHED_POLLS = 2_000;

export class Snapshots {
  private readonly polls = new Map<string, Poll>();
  private readonly reads = new Map<string, ReadState>();
  private readonly published = new Map<string, number>();
  private readonly observers = new Set<(s: Snapshot) => void>();

  constructor(
    private readonly store: Store,
    private readonly bus: Bus,
  ) {
    bus.subscribe((e) => {
      if (e.type === 'poll_changed') this.polls.delete(e.poll_id);
    });
  }

  /** The poll's definition; cached, because only its status and added options ever change. */
  async poll(id: string): Promise<Poll | null> {
    return this.polls.get(id) ?? this.reloadPoll(id);
  }

  async reloadPoll(id: string): Promise<Poll | null> {
    const poll = await this.store.getPoll(id);
    if (poll) {
      if (this.polls.size >= MAX_CACHED_POLLS) this.polls.delete(this.polls.keys().next().value as string);
      this.polls.set(id, poll);
    } else this.polls.delete(id);
    return poll;
  }

  /** Every snapshot this instance reads, as soon as it has it (local fan-out needs no bus round trip). */
  observe(fn: (s: Snapshot) => void): () => void {
    this.observers.add(fn);
    return () => this.observers.delete(fn);
  }

  forget(id: string): void {
    this.polls.delete(id);
  }

  /** A snapshot from a read that began after this call. */
  fresh(id: string): Promise<Snapshot | null> {
    let s = this.reads.get(id);
    if (!s) {
      s = {};
      this.reads.set(id, s);
    }
    const state = s;
    const start = (): Promise<Snapshot | null> => {
      const p = this.load(id);
      state.running = p;
      const done = () => {
        if (state.running === p) state.running = undefined;
        if (!state.running && !state.queued) this.reads.delete(id);
      };
      p.then(done, done);
      return p;
    };
    if (!state.running) return start();
    // The running read may have started before our caller's commit: join the next one.
    state.queued ??= state.running
      .then(
        () => {},
        () => {},
      )
      .then(() => {
        state.queued = undefined;
        return start();
      });
    return state.queued;
  }

  /** After a commit: a fresh snapshot, published on the bus unless this instance already sent one as new. */
  async afterCommit(id: string): Promise<Snapshot | null> {
    const snapshot = await this.fresh(id);
    if (snapshot && snapshot.version > (this.published.get(id) ?? -1)) {
      this.published.set(id, snapshot.version);
      if (this.published.size > MAX_CACHED_POLLS)
        this.published.delete(this.published.keys().next().value as string);
      await this.bus.publish({ type: 'poll_version', poll_id: id, version: snapshot.version, snapshot });
    }
    return snapshot;
  }

  private async load(id: string): Promise<Snapshot | null> {
    const tally = await this.store.readTally(id);
    if (!tally) return null;
    let poll = await this.poll(id);
    const optionCount = poll?.questions.reduce((n, q) => n + q.options.length, 0);
    if (!poll || optionCount !== tally.optionCount || poll.status !== tally.status)
      poll = await this.reloadPoll(id);
    if (!poll) return null;
    const snapshot = buildSnapshot(poll, tally);
    for (const fn of this.observers) fn(snapshot);
    return snapshot;
  }
}
