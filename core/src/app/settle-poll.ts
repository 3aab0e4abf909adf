// Closing a poll the fair way (issue: the lunch ritual): its close time came, someone closed it, or its leader can no
// longer be caught. Lunch polls get a decision (quorum, tie-breaks, see domain/lunch/decide.ts) and a visit; other
// polls simply close. Exactly once: the store decides inside the transaction that holds the poll.
import { randomBytes } from 'node:crypto';
import { decide, leaderCannotBeCaught } from '../domain/lunch/decide.ts';
import { localParts } from '../domain/lunch/schedule-clock.ts';
import { fail, ok, REASON_MESSAGES, type Result } from '../domain/result.ts';
import type { LunchStore, SettleInput, Settlement } from '../ports/lunch-store.ts';
import type { PollStore } from '../ports/store.ts';
import type { Decision, Poll, Snapshot } from '../protocol/index.ts';
import type { EventPath } from './event-path.ts';

export interface SettleDeps {
  polls: Pick<PollStore, 'getPoll'>;
  lunch: Pick<LunchStore, 'settlePoll' | 'runOfPoll' | 'schedule' | 'lastVisits' | 'places'>;
  events: EventPath;
}

export interface SettleOptions {
  trigger: 'due' | 'manual' | 'early';
  /** Who closes (`schedule` for the server, `admin`, a voter key). */
  actor: string | null;
  now?: Date;
  /** How long a poll below its quorum is extended, once, unless its schedule says otherwise (default 10). */
  extendMinutes?: number;
  /** The time zone of visit dates for polls no schedule made (default: the server's). */
  timezone?: string;
  /** The random tie-break's seed (hex); fresh random bytes by default. */
  seed?: string;
  /** Early close: how many voters are expected. */
  expectedVoters?: number;
}

export interface Settled {
  closed: boolean;
  extended: boolean;
  decision: Decision | null;
  snapshot: Snapshot | null;
  poll: Poll;
}

export async function settlePoll(
  deps: SettleDeps,
  pollId: string,
  o: SettleOptions,
): Promise<Result<Settled>> {
  const poll = await deps.polls.getPoll(pollId);
  if (!poll) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  const now = o.now ?? new Date();
  const rules =
    poll.template === 'lunch' ? await lunchRules(deps, poll, o, now) : () => ({ action: 'close' }) as const;
  // Read under the poll's lock: a close that is no longer due (another process extended the poll for its quorum
  // while this one waited for the lock) keeps it open, or that extension would last no time at all.
  const settle = (t: SettleInput): Settlement =>
    o.trigger === 'due' && t.closesAt !== null && Date.parse(t.closesAt) > now.getTime()
      ? { action: 'keep' }
      : rules(t);
  const r = await deps.lunch.settlePoll(pollId, o.actor, settle);
  if (!r.ok) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  const moved = r.closed || r.extended;
  const snapshot = moved ? await deps.events.committed(pollId, { definitionChanged: true }) : null;
  return ok({ closed: r.closed, extended: r.extended, decision: r.decision, snapshot, poll });
}

async function lunchRules(
  deps: SettleDeps,
  poll: Poll,
  o: SettleOptions,
  now: Date,
): Promise<(t: SettleInput) => Settlement> {
  const run = await deps.lunch.runOfPoll(poll.id);
  const schedule = run ? await deps.lunch.schedule(run.schedule_id) : null;
  const timezone = schedule?.timezone ?? o.timezone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const extendMinutes = schedule?.extend_minutes ?? o.extendMinutes ?? 10;
  const [visits, catalog] = await Promise.all([
    deps.lunch.lastVisits(poll.workspace),
    deps.lunch.places(poll.workspace),
  ]);
  // A poll made from the catalog has its place ids as option ids; an older or typed-in one is matched by name.
  const byName = new Map(catalog.map((p) => [p.name.trim().toLowerCase(), p.id]));
  const catalogIds = new Set(catalog.map((p) => p.id));
  const options = poll.questions.find((q) => q.kind === 'place')?.options ?? [];
  const placeOf = (optionId: string, label: string) =>
    catalogIds.has(optionId) ? optionId : (byName.get(label.trim().toLowerCase()) ?? null);
  const lastVisits = new Map<string, string>();
  for (const opt of options) {
    const place = placeOf(opt.id, opt.label);
    const last = place ? visits.get(place) : undefined;
    if (last) lastVisits.set(opt.id, last);
  }
  const seed = o.seed ?? randomBytes(4).toString('hex');
  return (t) => {
    const votes = options.map((x) => ({ id: x.id, label: x.label, votes: t.counts[x.id] ?? 0 }));
    if (
      o.trigger === 'early' &&
      !leaderCannotBeCaught(
        votes.map((v) => v.votes),
        t.totalVoters,
        o.expectedVoters ?? Number.POSITIVE_INFINITY,
      )
    )
      return { action: 'keep' };
    const out = decide({
      options: votes,
      totalVoters: t.totalVoters,
      quorum: poll.settings.quorum,
      extended: t.extended,
      trigger: o.trigger,
      lastVisits,
      seed,
      extendMinutes,
    });
    if (out.action === 'keep') return out;
    if (out.action === 'extend') {
      const from = Math.max(t.closesAt ? Date.parse(t.closesAt) : now.getTime(), now.getTime());
      return { action: 'extend', until: new Date(from + extendMinutes * 60_000) };
    }
    const d = out.decision;
    if (d.outcome !== 'decided' || !d.option_id) return { action: 'close', decision: d };
    return {
      action: 'close',
      decision: d,
      visit: {
        workspace: poll.workspace,
        place_id: placeOf(d.option_id, d.label ?? ''),
        name: d.label ?? '',
        date: run?.local_date ?? localParts(now, timezone).date,
        votes: d.vote_count,
      },
    };
  };
}
