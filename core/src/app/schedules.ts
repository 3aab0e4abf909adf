// Schedules: a destination gets a lunch poll on its weekdays between its open and close times. Creating, changing
// and removing them, and a day's run: exactly one poll per schedule and local date, however many instances try.

import { pickPlaces } from '../domain/lunch/places-rule.ts';
import { dueRun, type RunWindow, runNow } from '../domain/lunch/schedule-clock.ts';
import { newPollId } from '../domain/poll-id.ts';
import { fail, ok, REASON_MESSAGES, type Result } from '../domain/result.ts';
import type { LunchDestination, LunchDestinations } from '../ports/lunch-destinations.ts';
import type { LunchStore, ScheduleSpec } from '../ports/lunch-store.ts';
import type { PollStore } from '../ports/store.ts';
import {
  type CreateScheduleBody,
  type DestinationBody,
  type PatchScheduleBody,
  type Poll,
  type Schedule,
  WEB_WORKSPACE,
} from '../protocol/index.ts';
import { catalogOf } from './catalog.ts';
import type { EventPath } from './event-path.ts';
import { createPoll } from './manage-polls.ts';

export interface ScheduleDeps {
  polls: PollStore;
  lunch: LunchStore;
  events: EventPath;
}

const DEFAULTS = {
  skip_dates: [],
  places: { rule: 'all' },
  title: 'Lunch',
  anonymous: false,
  quorum: null,
  extend_minutes: 10,
  reminder_minutes: 10,
  nudges: false,
  early_close: false,
  active: true,
} satisfies Partial<ScheduleSpec>;

/** A destination must be of the schedule's workspace: a Slack channel for a Slack workspace, and so on. */
function destinationFits(workspace: string, d: DestinationBody): boolean {
  return d.platform === 'web' || workspace.startsWith(`${d.platform}:`);
}

export async function createSchedule(
  deps: Pick<ScheduleDeps, 'lunch'>,
  body: CreateScheduleBody,
  now: Date = new Date(),
): Promise<Result<Schedule, 'not_allowed'>> {
  const { workspace = WEB_WORKSPACE, ...spec } = body;
  if (!destinationFits(workspace, spec.destination))
    return fail(
      'not_allowed',
      `A ${spec.destination.platform} destination does not belong to workspace ${workspace}.`,
    );
  const schedule: Schedule = {
    id: newPollId(),
    workspace,
    ...DEFAULTS,
    ...spec,
    weekdays: [...spec.weekdays].sort(),
    created_at: now.toISOString(),
  };
  await deps.lunch.createSchedule(schedule);
  return ok(schedule);
}

export async function updateSchedule(
  deps: Pick<ScheduleDeps, 'lunch'>,
  id: string,
  patch: PatchScheduleBody,
): Promise<Result<Schedule, 'unknown_schedule' | 'not_allowed'>> {
  const current = await deps.lunch.schedule(id);
  if (!current) return fail('unknown_schedule', REASON_MESSAGES.unknown_schedule);
  const { id: _id, workspace, created_at: _at, ...spec } = current;
  const next: ScheduleSpec = { ...spec, ...patch };
  if (next.open_at >= next.close_at) return fail('not_allowed', 'open_at must be before close_at.');
  if (!destinationFits(workspace, next.destination))
    return fail(
      'not_allowed',
      `A ${next.destination.platform} destination does not belong to workspace ${workspace}.`,
    );
  const saved = await deps.lunch.updateSchedule(id, { ...next, weekdays: [...next.weekdays].sort() });
  return saved ? ok(saved) : fail('unknown_schedule', REASON_MESSAGES.unknown_schedule);
}

export const destinationOf = (s: Pick<Schedule, 'workspace' | 'destination'>): LunchDestination => {
  const d = s.destination;
  if (d.platform === 'slack') return { kind: 'slack', workspace: s.workspace, channel: d.channel };
  if (d.platform === 'teams')
    return { kind: 'teams', workspace: s.workspace, conversation: d.conversation_id };
  return { kind: 'web', workspace: s.workspace };
};

/** How long an instance holds a schedule's run while it creates and posts the poll (renewed while posting). */
export const RUN_LEASE_MS = 60_000;

export interface RunOptions {
  destinations: LunchDestinations;
  now: Date;
  /** How long an instance holds a run while it creates and posts the poll. */
  leaseMs?: number;
  random?: () => number;
  log?: { warn(o: object, m?: string): void };
}

export type RunOutcome = { poll: Poll; created: boolean; posted: boolean } | null;

/** Today's run if it is due now (the scheduler), or today's poll at once (`POST /api/schedules/:id/run`). */
export async function runSchedule(
  deps: ScheduleDeps,
  schedule: Schedule,
  o: RunOptions & { manual?: boolean },
): Promise<Result<NonNullable<RunOutcome>, 'too_few_places' | 'unknown_place'> | null> {
  const window = o.manual ? runNow(schedule, o.now) : dueRun(schedule, o.now);
  if (!window) return null;
  return runWindow(deps, schedule, window, o);
}

async function runWindow(
  deps: ScheduleDeps,
  schedule: Schedule,
  window: RunWindow,
  o: RunOptions,
): Promise<Result<NonNullable<RunOutcome>, 'too_few_places' | 'unknown_place'> | null> {
  const leaseMs = o.leaseMs ?? RUN_LEASE_MS;
  const claim = await deps.lunch.claimRun(
    {
      schedule_id: schedule.id,
      local_date: window.localDate,
      poll_id: newPollId(),
      destination: schedule.destination,
    },
    leaseMs,
  );
  const pollId = claim.run.poll_id;
  if (claim.state !== 'claimed') {
    const poll = await deps.polls.getPoll(pollId);
    return poll ? ok({ poll, created: false, posted: claim.state === 'done' }) : null;
  }
  let poll = await deps.polls.getPoll(pollId);
  let created = false;
  if (!poll) {
    const [active, visits] = await Promise.all([
      catalogOf({ catalog: deps.lunch }, schedule.workspace),
      deps.lunch.lastVisits(schedule.workspace),
    ]);
    const places = pickPlaces(active, schedule.places, visits, window.localDate, o.random);
    if (places.length < 2) return fail('too_few_places', REASON_MESSAGES.too_few_places);
    const r = await createPoll(
      deps,
      {
        template: 'lunch',
        workspace: schedule.workspace,
        title: schedule.title,
        places: places.slice(0, 50),
        closes_at: window.closesAt.toISOString(),
        settings: { anonymous: schedule.anonymous, quorum: schedule.quorum },
      },
      { kind: 'system', key: 'schedule' },
      pollId,
    );
    if (!r.ok) return fail('too_few_places', r.message);
    poll = r.value.poll;
    created = true;
  }
  const snapshot = await deps.events.committed(pollId);
  if (!snapshot) throw new Error(`poll ${pollId} vanished right after its schedule made it`);
  // Posted once: this instance holds the run's lease until it marks the run posted, renewing it while the post is
  // under way (Slack's client may wait out a 429 longer than the lease), so nobody posts it a second time. A poster
  // that dies leaves the lease to run out, and the next tick posts the same poll.
  const renew = setInterval(() => {
    deps.lunch
      .renewRun(schedule.id, window.localDate, leaseMs)
      .catch((err: unknown) => o.log?.warn({ err: String(err) }, 'renewing a run lease failed'));
  }, leaseMs / 3);
  renew.unref();
  try {
    await o.destinations.postPoll(destinationOf(schedule), poll, snapshot);
  } finally {
    clearInterval(renew);
  }
  await deps.lunch.runPosted(schedule.id, window.localDate);
  return ok({ poll, created, posted: true });
}
