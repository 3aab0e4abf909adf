// The lunch ritual's store ports: a workspace's place catalog, its schedules and their daily runs, the visits the
// polls decided, reminders and the "I'm in" headcount. The Postgres and PGlite adapters implement them all.

import type { TallyCounts } from '../domain/tally.ts';
import type {
  CatalogPlace,
  CatalogPlaceInput,
  CatalogPlacePatch,
  Decision,
  DestinationBody,
  Schedule,
  Visit,
} from '../protocol/index.ts';

export type NewCatalogPlace = Omit<CatalogPlaceInput, 'workspace' | 'menus'> & {
  id: string;
  menus: { id: string; name: string; label_en?: string | undefined }[];
};

export type CatalogWrite<T> =
  | { ok: true; value: T }
  | { ok: false; reason: 'unknown_place' | 'place_exists' };

export interface CatalogStore {
  /** The workspace a place belongs to, or null for an unknown place. */
  placeWorkspace(id: string): Promise<string | null>;
  /** The workspace's places, in catalog order (active and inactive). */
  places(workspace: string): Promise<CatalogPlace[]>;
  addPlace(workspace: string, place: NewCatalogPlace): Promise<CatalogWrite<CatalogPlace>>;
  /** `menus`, when given, replaces the list (menus carry their ids; new ones come with fresh ids). */
  updatePlace(
    workspace: string,
    id: string,
    patch: Omit<CatalogPlacePatch, 'menus'> & { menus?: NewCatalogPlace['menus'] },
  ): Promise<CatalogWrite<CatalogPlace>>;
  /**
   * Adds the places only when the workspace has never had any (the starter catalog); concurrent callers add them
   * once. Returns whether this call added them.
   */
  seedPlaces(workspace: string, places: NewCatalogPlace[]): Promise<boolean>;
}

/** A schedule as stored: the spec is the protocol's Schedule without id, workspace and created_at. */
export type ScheduleSpec = Omit<Schedule, 'id' | 'workspace' | 'created_at'>;

/** A day's run of a schedule: its poll, and which steps are done. */
export interface ScheduleRun {
  schedule_id: string;
  local_date: string;
  poll_id: string;
  destination: DestinationBody;
  posted: boolean;
  announced: boolean;
}

export type RunClaim =
  /** This caller holds the run: it creates the poll (if missing) and posts it, then calls runPosted. */
  | { state: 'claimed'; run: ScheduleRun }
  /** The run exists and was posted, or another instance holds its lease right now. */
  | { state: 'done' | 'busy'; run: ScheduleRun };

export interface ScheduleStore {
  schedules(workspace?: string): Promise<Schedule[]>;
  schedule(id: string): Promise<Schedule | null>;
  createSchedule(s: Schedule): Promise<void>;
  updateSchedule(id: string, spec: ScheduleSpec): Promise<Schedule | null>;
  deleteSchedule(id: string): Promise<boolean>;
  /**
   * Claims the schedule's run for a local date: the first caller inserts it (with the poll id it will create); a
   * run whose poster died (lease passed, never posted) is taken over with its poll id unchanged.
   */
  claimRun(run: Omit<ScheduleRun, 'posted' | 'announced'>, leaseMs: number): Promise<RunClaim>;
  /** Extends the caller's lease on an unposted run by leaseMs from now (a post still under way): false once posted. */
  renewRun(scheduleId: string, localDate: string, leaseMs: number): Promise<boolean>;
  runPosted(scheduleId: string, localDate: string): Promise<void>;
  runOn(scheduleId: string, localDate: string): Promise<ScheduleRun | null>;
  /** The run a poll belongs to (with its schedule), if a schedule made it. */
  runOfPoll(pollId: string): Promise<ScheduleRun | null>;
  /**
   * Claims the result announcement for leaseMs: true for one caller at a time, and never once it is made. A claim
   * whose holder died lapses with its lease, and the next caller gets it.
   */
  claimRunAnnouncement(pollId: string, leaseMs: number): Promise<boolean>;
  /** The destination took the announcement: it is made (ScheduleRun.announced), and never claimed again. */
  runAnnounced(pollId: string): Promise<void>;
  /** Gives a claimed announcement back (it failed): the next claim, by any process, may make it. */
  releaseRunAnnouncement(pollId: string): Promise<void>;
  /** Polls of the schedule, newest first (for reminders' regulars and early close's expected voters). */
  recentRunPolls(scheduleId: string, limit: number): Promise<string[]>;
}

export interface VisitStore {
  visits(workspace: string, limit?: number): Promise<Visit[]>;
  /** The last visit date (YYYY-MM-DD) of each catalog place of the workspace that was ever visited. */
  lastVisits(workspace: string): Promise<Map<string, string>>;
}

export interface ReminderStore {
  /** Records a reminder for (poll, target); true only for the one caller that recorded it. */
  claimReminder(pollId: string, target: string): Promise<boolean>;
  remindersSent(pollId: string): Promise<string[]>;
  setReminderOptOut(workspace: string, voterKey: string, optOut: boolean): Promise<void>;
  reminderOptOuts(workspace: string): Promise<Set<string>>;
  /** Voter keys with a ballot in each of the polls (non-anonymous polls only: anonymous ones keep no voter). */
  votersOfPolls(pollIds: string[]): Promise<Map<string, Set<string>>>;
}

export interface HeadcountStore {
  joinHeadcount(pollId: string, voterKey: string, join: boolean): Promise<void>;
  headcount(pollId: string): Promise<{ count: number; voters: string[] }>;
}

/** What a close decides, seen from inside the transaction that holds the poll's gate. */
export interface SettleInput {
  counts: TallyCounts['counts'];
  totalVoters: number;
  closesAt: string | null;
  extended: boolean;
}
export type Settlement =
  | { action: 'close'; decision?: Decision; visit?: Omit<Visit, 'poll_id'> & { workspace: string } }
  | { action: 'extend'; until: Date }
  /** Leave the poll as it is (e.g. an early close whose leader was caught meanwhile). */
  | { action: 'keep' };

export type SettleOutcome =
  | { ok: true; closed: boolean; extended: boolean; decision: Decision | null }
  | { ok: false; reason: 'unknown_poll' };

export interface SettleStore {
  /**
   * Closes a poll the fair way, in one transaction that holds every shard of the poll (no vote lands meanwhile):
   * reads the final counts, asks `settle` what to do, and closes with the decision and its visit, or extends the
   * close time once, or keeps it. A poll already closed answers `closed: false`.
   */
  settlePoll(
    pollId: string,
    closedBy: string | null,
    settle: (t: SettleInput) => Settlement,
  ): Promise<SettleOutcome>;
  /** The earliest close time of an open poll (for the close timer), or null. */
  nextCloseAt(): Promise<Date | null>;
  /** Open polls whose close time is at or before `now`. */
  duePolls(now: Date, limit?: number): Promise<string[]>;
}

export interface LunchStore
  extends CatalogStore,
    ScheduleStore,
    VisitStore,
    ReminderStore,
    HeadcountStore,
    SettleStore {}
