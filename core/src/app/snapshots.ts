// A cache in front of the store: poll definitions (only their status, added options and close time ever change) and tally
// snapshots read after a commit, coalesced: concurrent callers share one read, and every caller gets a read that
// started after it asked, so its own committed change is always in it. It neither publishes nor notifies anyone:
// that is the event path's job (event-path.ts).
import { buildSnapshot } from '../domain/tally.ts';
import type { PollStore, PollTally } from '../ports/store.ts';
import type { Poll, PollQuestion, Snapshot } from '../protocol/index.ts';

interface ReadState {
  running?: Promise<Snapshot | null>;
  /** The read that has not started yet: whoever asks now shares it. */
  next?: Promise<Snapshot | null>;
}

const MAX_CACHED_POLLS = 2_000;

export class Snapshots {
  private readonly polls = new Map<string, Poll>();
  private readonly reads = new Map<string, ReadState>();
  private readonly built = new WeakMap<PollTally, Promise<Snapshot | null>>();

  constructor(private readonly store: Pick<PollStore, 'getPoll' | 'readTally'>) {}

  /** The poll's definition, cached. */
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

  /**
   * The poll and the question an option belongs to. A copy that lacks the option is read again once first: the
   * option may have been added through another process, which tells only the processes watching the poll.
   */
  async withOption(id: string, optionId: string): Promise<{ poll: Poll; question: PollQuestion } | null> {
    const questionOf = (p: Poll | null) => p?.questions.find((q) => q.options.some((o) => o.id === optionId));
    let poll = await this.poll(id);
    if (poll && !questionOf(poll)) poll = await this.reloadPoll(id);
    const question = questionOf(poll);
    return poll && question ? { poll, question } : null;
  }

  /** Drops the cached definition (it changed: closed, an option added). */
  forget(id: string): void {
    this.polls.delete(id);
  }

  /**
   * A snapshot from a read that began after this call. A read starts at the end of the current turn of the event
   * loop (or when the running one ends), and every caller until then shares it: the voters of one group commit are
   * answered in the same turn, so they share one read instead of the first going alone and the rest waiting for a
   * second.
   */
  fresh(id: string): Promise<Snapshot | null> {
    let s = this.reads.get(id);
    if (!s) {
      s = {};
      this.reads.set(id, s);
    }
    const state = s;
    if (state.next) return state.next;
    // The running read may have started before our caller's commit: join the next one.
    const after = state.running
      ? state.running.then(
          () => {},
          () => {},
        )
      : new Promise<void>((r) => setImmediate(r));
    const next = after.then(() => {
      state.next = undefined;
      const p = this.load(id);
      state.running = p;
      const done = () => {
        if (state.running === p) state.running = undefined;
        if (!state.running && !state.next) this.reads.delete(id);
      };
      p.then(done, done);
      return p;
    });
    state.next = next;
    return next;
  }

  /**
   * The snapshot of a tally the store read after a commit (in the cast's own round trip). The casts of one batch
   * share that tally object, and so one snapshot.
   */
  of(id: string, tally: PollTally): Promise<Snapshot | null> {
    let built = this.built.get(tally);
    if (!built) {
      built = this.build(id, tally);
      this.built.set(tally, built);
    }
    return built;
  }

  private async load(id: string): Promise<Snapshot | null> {
    const tally = await this.store.readTally(id);
    return tally ? this.build(id, tally) : null;
  }

  private async build(id: string, tally: PollTally): Promise<Snapshot | null> {
    let poll = await this.poll(id);
    const optionCount = poll?.questions.reduce((n, q) => n + q.options.length, 0);
    // Another instance may have closed the poll, added an option or moved its close time since we cached it.
    if (
      !poll ||
      optionCount !== tally.optionCount ||
      poll.status !== tally.status ||
      (tally.closesAt !== undefined && tally.closesAt !== poll.closes_at)
    )
      poll = await this.reloadPoll(id);
    if (!poll) return null;
    return buildSnapshot(poll, tally);
  }
}
