// The lunch ritual's background work in one process: open each schedule's poll when it is due, remind before the
// close, close every poll with a close time on time (a timer to the next one) and early when its leader can no longer
// be caught, and announce the result. Every process runs one; the store's unique keys and row locks make each step
// happen once, whichever process gets there first.
import { leaderCannotBeCaught } from '../domain/lunch/decide.ts';
import { planReminders } from '../domain/lunch/reminder-plan.ts';
import { addDays, dueRun, localParts } from '../domain/lunch/schedule-clock.ts';
import type { LunchDestination, LunchDestinations } from '../ports/lunch-destinations.ts';
import type { LunchStore, ScheduleRun } from '../ports/lunch-store.ts';
import type { PollStore } from '../ports/store.ts';
import type { Poll, Schedule, Snapshot } from '../protocol/index.ts';
import type { EventPath } from './event-path.ts';
import { destinationOf, runSchedule } from './schedules.ts';
import { settlePoll } from './settle-poll.ts';

export interface LunchRitualDeps {
  core: { polls: PollStore; lunch: LunchStore; events: EventPath };
  destinations: LunchDestinations & { canDeliver?(d: LunchDestination): boolean };
  /** The clock every decision reads (tests move it); timers wait the difference in real time. */
  now?: () => Date;
  log?: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** How often schedules and reminders are looked at, and the close timer re-reads the next close (default 5 s). */
  tickMs?: number;
  /**
   * How long a claimed result announcement is this process's to make (default 60 s, as a run's posting lease):
   * if it dies meanwhile, another process makes it after that. The platforms' calls time out well within it.
   */
  announceLeaseMs?: number;
  extendMinutes?: number;
  timezone?: string;
}

const EXPECTED_CACHE_MS = 60_000;
const MIN_PASS_MS = 100;

/** A failed result announcement is tried again after this, doubling with each failure, up to the cap. */
const ANNOUNCE_RETRY_MS = 5_000;
const ANNOUNCE_RETRY_CAP_MS = 10 * 60_000;
const ANNOUNCE_LEASE_MS = 60_000;

/** Where a run's poll was posted: reminders and the result follow it there, even if the schedule has moved since. */
const postedTo = (s: Schedule, run: ScheduleRun): LunchDestination =>
  destinationOf({ workspace: s.workspace, destination: run.destination });

export class LunchRitual {
  private closeTimer: NodeJS.Timeout | undefined;
  private tickTimer: NodeJS.Timeout | undefined;
  private unsubscribe: (() => void) | undefined;
  private running = false;
  private ticking: Promise<void> | undefined;
  private closing: Promise<void> | undefined;
  /** Runs this process already saw posted: (schedule id, local date). */
  private readonly posted = new Set<string>();
  /** Polls whose snapshots this process has seen (a new one re-arms the close timer). */
  private readonly seen = new Set<string>();
  /** Per open poll: the voters expected for early close (null: not a schedule poll with early close). */
  private readonly expected = new Map<string, { at: number; value: Promise<number | null> }>();
  /** Result announcements that failed here, given back to be tried again: per poll, the failures and when next. */
  private readonly announceRetry = new Map<string, { failures: number; at: number }>();

  constructor(private readonly deps: LunchRitualDeps) {}

  private now(): Date {
    return this.deps.now?.() ?? new Date();
  }

  start(): void {
    this.running = true;
    this.unsubscribe = this.deps.core.events.subscribe((s) => void this.onSnapshot(s));
    const loop = () => {
      if (!this.running) return;
      void this.tick().finally(() => {
        if (this.running) this.tickTimer = setTimeout(loop, this.deps.tickMs ?? 5_000);
      });
    };
    loop();
    void this.armClose();
  }

  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.closeTimer);
    clearTimeout(this.tickTimer);
    this.unsubscribe?.();
    await Promise.allSettled([this.ticking, this.closing]);
  }

  private warn(err: unknown, what: string, fields: object = {}): void {
    this.deps.log?.warn({ error: err instanceof Error ? err.message : String(err), ...fields }, what);
  }

  // ---- closing ------------------------------------------------------------------------------------------

  /** Sleeps until the next close time (re-reading it at least every tick), closes what is due, and again. */
  private async armClose(): Promise<void> {
    if (!this.running) return;
    clearTimeout(this.closeTimer);
    let delay = this.deps.tickMs ?? 5_000;
    try {
      const next = await this.deps.core.lunch.nextCloseAt();
      // At least a moment between passes: a poll that keeps failing to close must not spin this loop.
      if (next) delay = Math.min(delay, Math.max(MIN_PASS_MS, next.getTime() - this.now().getTime()));
    } catch (err) {
      this.warn(err, 'reading the next close time failed');
    }
    if (!this.running) return;
    clearTimeout(this.closeTimer); // another arm may have run meanwhile: one timer only
    this.closeTimer = setTimeout(() => {
      void this.closeDue().finally(() => void this.armClose());
    }, delay);
  }

  /** Closes (or extends, for a quorum) every poll whose close time has come; announces what this process closed. */
  closeDue(): Promise<void> {
    this.closing ??= (async () => {
      try {
        const due = await this.deps.core.lunch.duePolls(this.now());
        for (const id of due) await this.settle(id, 'due');
      } catch (err) {
        this.warn(err, 'closing due polls failed');
      } finally {
        this.closing = undefined;
      }
    })();
    return this.closing;
  }

  private async settle(pollId: string, trigger: 'due' | 'early', expectedVoters?: number): Promise<void> {
    const r = await settlePoll(this.deps.core, pollId, {
      trigger,
      actor: 'schedule',
      now: this.now(),
      ...(this.deps.extendMinutes ? { extendMinutes: this.deps.extendMinutes } : {}),
      ...(this.deps.timezone ? { timezone: this.deps.timezone } : {}),
      ...(expectedVoters !== undefined ? { expectedVoters } : {}),
    });
    if (!r.ok) return;
    const { closed, extended, decision, snapshot, poll } = r.value;
    if (extended) this.deps.log?.info({ poll: pollId }, 'below its quorum: extended once');
    if (!closed || !snapshot) return;
    this.expected.delete(pollId);
    this.deps.log?.info({ poll: pollId, reason: decision?.reason ?? null, trigger }, 'poll closed by itself');
    await this.announce(poll, snapshot, decision);
  }

  private async announce(
    poll: Poll,
    snapshot: Snapshot,
    decision: Snapshot['decision'] | null,
  ): Promise<void> {
    const run = await this.deps.core.lunch.runOfPoll(poll.id);
    if (!run) return; // not a schedule's poll: chat messages announce through the tally sync
    const schedule = await this.deps.core.lunch.schedule(run.schedule_id);
    if (!schedule) return;
    // Where the poll was posted, even if the schedule has moved since. A process that cannot reach this kind of
    // destination leaves the announcement to one that can (see tick).
    const destination = postedTo(schedule, run);
    if (!this.canDeliver(destination)) return;
    const { lunch } = this.deps.core;
    if (!(await lunch.claimRunAnnouncement(poll.id, this.deps.announceLeaseMs ?? ANNOUNCE_LEASE_MS))) return;
    const fresh = (await this.deps.core.polls.getPoll(poll.id)) ?? poll;
    try {
      await this.deps.destinations.announce(destination, fresh, {
        snapshot,
        decision: decision ?? null,
      });
    } catch (err) {
      // Given back, not lost: a later tick (this process or another) announces it, after a growing pause here
      // (5 s, doubling, at most 10 min) so a destination that keeps refusing is not hammered.
      const failures = (this.announceRetry.get(poll.id)?.failures ?? 0) + 1;
      if (this.announceRetry.size >= 1_000) this.announceRetry.clear(); // bounded: at worst a retry comes sooner
      this.announceRetry.set(poll.id, {
        failures,
        at: this.now().getTime() + Math.min(ANNOUNCE_RETRY_CAP_MS, ANNOUNCE_RETRY_MS * 2 ** (failures - 1)),
      });
      this.warn(err, 'announcing a result failed; it is tried again', { poll: poll.id, failures });
      await lunch
        .releaseRunAnnouncement(poll.id)
        .catch((e: unknown) => this.warn(e, 'giving an announcement back failed', { poll: poll.id }));
      return;
    }
    this.announceRetry.delete(poll.id);
    // Made. Should the mark fail, the claim lapses and the announcement is made again: twice at worst, never lost.
    await lunch
      .runAnnounced(poll.id)
      .catch((e: unknown) => this.warn(e, 'recording an announcement failed', { poll: poll.id }));
  }

  // ---- early close --------------------------------------------------------------------------------------

  private async onSnapshot(s: Snapshot): Promise<void> {
    // A poll this process has not seen yet (just created here, or watched): its close time may be the next one.
    if (this.running && !this.seen.has(s.poll_id)) {
      if (this.seen.size >= 10_000) this.seen.clear();
      this.seen.add(s.poll_id);
      void this.armClose();
    }
    if (!this.running || s.status !== 'open' || s.results_hidden || !s.place_votes || s.total_voters === 0)
      return;
    try {
      const expected = await this.expectedVoters(s.poll_id);
      if (expected === null) return;
      const votes = s.place_votes.map((p) => p.vote_count);
      if (leaderCannotBeCaught(votes, s.total_voters, expected))
        await this.settle(s.poll_id, 'early', expected);
    } catch (err) {
      this.warn(err, 'early close check failed', { poll: s.poll_id });
    }
  }

  /** The quorum, or the people who voted in the schedule's last 5 polls; null when early close is off. */
  private expectedVoters(pollId: string): Promise<number | null> {
    const cached = this.expected.get(pollId);
    if (cached && Date.now() - cached.at < EXPECTED_CACHE_MS) return cached.value;
    const value = (async () => {
      const { lunch } = this.deps.core;
      const run = await lunch.runOfPoll(pollId);
      const schedule = run && (await lunch.schedule(run.schedule_id));
      if (!schedule?.early_close) return null;
      // The quorum the poll was made with, as its decision uses it (the schedule's may have changed since).
      const quorum = (await this.deps.core.polls.getPoll(pollId))?.settings.quorum ?? null;
      if (quorum !== null) return quorum;
      const earlier = (await lunch.recentRunPolls(schedule.id, 6)).filter((id) => id !== pollId).slice(0, 5);
      const voters = new Set<string>();
      for (const set of (await lunch.votersOfPolls(earlier)).values()) for (const v of set) voters.add(v);
      return voters.size > 0 ? voters.size : null;
    })();
    this.expected.set(pollId, { at: Date.now(), value });
    return value;
  }

  // ---- schedules and reminders --------------------------------------------------------------------------

  /** One look at every schedule: open what is due, remind what is near its close. */
  tick(): Promise<void> {
    this.ticking ??= (async () => {
      try {
        const now = this.now();
        for (const s of await this.deps.core.lunch.schedules()) {
          const today = localParts(now, s.timezone).date;
          // Yesterday's too: a result not announced by midnight (an outage, an extension past it) is still owed.
          for (const date of [addDays(today, -1), today]) await this.announceLeftover(s, date);
          const window = dueRun(s, now);
          if (window && this.canDeliver(destinationOf(s))) await this.open(s, window.localDate, now);
          // Today's poll, once posted, gets its reminder whatever happened to the schedule since (paused, today
          // skipped, moved): it is still open and people are still voting.
          await this.remind(s, today, now);
        }
      } catch (err) {
        this.warn(err, 'looking at schedules failed');
      } finally {
        this.ticking = undefined;
      }
    })();
    return this.ticking;
  }

  private canDeliver(d: LunchDestination): boolean {
    return this.deps.destinations.canDeliver?.(d) ?? true;
  }

  /**
   * Today's poll closed and decided, but not announced: closed by a process that could not reach the destination,
   * or its announcement failed and was given back, or the process that claimed it died before it was made (its
   * claim lapses with its lease).
   */
  private async announceLeftover(s: Schedule, localDate: string): Promise<void> {
    const { lunch, polls, events } = this.deps.core;
    const run = await lunch.runOn(s.id, localDate);
    if (!run?.posted || run.announced || !this.canDeliver(postedTo(s, run))) return;
    const retry = this.announceRetry.get(run.poll_id);
    if (retry && this.now().getTime() < retry.at) return;
    const poll = await polls.getPoll(run.poll_id);
    if (!poll?.decision) return;
    const snapshot = await events.refresh(poll.id);
    if (snapshot) await this.announce(poll, snapshot, poll.decision);
  }

  private async open(s: Schedule, localDate: string, now: Date): Promise<void> {
    const key = `${s.id}:${localDate}`;
    if (this.posted.has(key)) return;
    try {
      const r = await runSchedule(this.deps.core, s, { destinations: this.deps.destinations, now });
      if (r && !r.ok)
        this.warn(new Error(r.message), 'a schedule could not open its poll', { schedule: s.id });
      if (r?.ok && r.value.posted) {
        this.posted.add(key);
        if (r.value.created)
          this.deps.log?.info({ schedule: s.id, poll: r.value.poll.id }, 'scheduled poll opened');
        void this.armClose();
      }
    } catch (err) {
      this.warn(err, 'opening a scheduled poll failed', { schedule: s.id });
    }
  }

  private async remind(s: Schedule, localDate: string, now: Date): Promise<void> {
    if (s.reminder_minutes === null) return;
    const { lunch, polls, events } = this.deps.core;
    const run = await lunch.runOn(s.id, localDate);
    if (!run?.posted || !this.canDeliver(postedTo(s, run))) return;
    const poll = await polls.getPoll(run.poll_id);
    if (poll?.status !== 'open' || !poll.closes_at) return;
    const closesAt = new Date(poll.closes_at);
    // Cheap checks first: most ticks are outside the reminder window.
    if (now.getTime() < closesAt.getTime() - s.reminder_minutes * 60_000 || now >= closesAt) return;
    const sent = new Set(await lunch.remindersSent(poll.id));
    const nudging = s.nudges && !poll.settings.anonymous;
    const earlierIds = nudging ? (await lunch.recentRunPolls(s.id, 6)).filter((id) => id !== poll.id) : [];
    const voters = nudging
      ? await lunch.votersOfPolls([...earlierIds, poll.id])
      : new Map<string, Set<string>>();
    const plan = planReminders({
      now,
      closesAt,
      reminderMinutes: s.reminder_minutes,
      sent,
      nudges: nudging,
      earlierPolls: earlierIds.map((id) => voters.get(id) ?? new Set()),
      votedToday: voters.get(poll.id) ?? new Set(),
      optedOut: nudging ? await lunch.reminderOptOuts(s.workspace) : new Set(),
    });
    const destination = postedTo(s, run);
    if (plan.destination && (await lunch.claimReminder(poll.id, 'destination'))) {
      const snapshot = await events.refresh(poll.id).catch(() => null);
      await this.deps.destinations
        .remind(destination, poll, snapshot?.leader ?? null)
        .catch((err: unknown) => this.warn(err, 'reminder failed', { poll: poll.id }));
    }
    for (const voter of plan.nudge) {
      if (!(await lunch.claimReminder(poll.id, voter))) continue;
      await this.deps.destinations
        .nudge(destination, poll, voter)
        .catch((err: unknown) => this.warn(err, 'nudge failed', { poll: poll.id }));
    }
  }
}
