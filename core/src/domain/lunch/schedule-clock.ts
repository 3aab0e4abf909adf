// When a schedule's poll opens and closes, in the schedule's own time zone: pure functions of a schedule and "now".
import type { Schedule } from '../../protocol/index.ts';
import { wallClockMs } from '../wall-clock.ts';

type Timing = Pick<Schedule, 'weekdays' | 'open_at' | 'close_at' | 'timezone' | 'skip_dates' | 'active'>;

export interface LocalParts {
  /** YYYY-MM-DD */
  date: string;
  /** ISO weekday, 1 = Monday. */
  weekday: number;
}

export const isoWeekday = (date: string): number => {
  const d = new Date(`${date}T00:00:00Z`).getUTCDay();
  return d === 0 ? 7 : d;
};

export function localParts(at: Date, tz: string): LocalParts {
  const date = new Date(wallClockMs(at, tz)).toISOString().slice(0, 10);
  return { date, weekday: isoWeekday(date) };
}

/**
 * The instant at which the wall clock in `tz` shows `date` `hhmm`. On a daylight-saving day, in every zone alike: a
 * time shown twice is the later one; a time the clocks skip is read with the offset before the change, so it lands
 * just after the gap by the gap's length (New York's 02:30 on the spring day is 03:30 EDT), never before it.
 */
export function zonedTime(date: string, hhmm: string, tz: string): Date {
  const wall = Date.parse(`${date}T${hhmm}:00Z`);
  const offsetAt = (ms: number) => wallClockMs(new Date(ms), tz) - ms;
  // The offsets a day either side: the zone's offsets before and after any change on this date.
  const before = wall - offsetAt(wall - 86_400_000);
  const after = wall - offsetAt(wall + 86_400_000);
  const shows = (ms: number) => wallClockMs(new Date(ms), tz) === wall;
  if (shows(before) && shows(after)) return new Date(Math.max(before, after));
  if (shows(after)) return new Date(after);
  return new Date(before); // shows it, or the time was skipped
}

export const addDays = (date: string, days: number): string =>
  new Date(Date.parse(`${date}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

export const daysBetween = (from: string, to: string): number =>
  Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000);

export interface RunWindow {
  localDate: string;
  opensAt: Date;
  closesAt: Date;
}

/** Whether the schedule has a poll on that local date (its weekday, not a skip date). */
export const runsOn = (s: Timing, date: string): boolean =>
  s.active && s.weekdays.includes(isoWeekday(date)) && !s.skip_dates.includes(date);

const windowOn = (s: Timing, date: string): RunWindow => ({
  localDate: date,
  opensAt: zonedTime(date, s.open_at, s.timezone),
  closesAt: zonedTime(date, s.close_at, s.timezone),
});

/**
 * Today's run when it should be open now: a poll day, at or after its opening and before its close. A server that
 * was down at the opening gets the run when it is back, as long as the close time has not come.
 */
export function dueRun(s: Timing, now: Date): RunWindow | null {
  const { date } = localParts(now, s.timezone);
  if (!runsOn(s, date)) return null;
  const w = windowOn(s, date);
  return now >= w.opensAt && now < w.closesAt ? w : null;
}

/** The next opening after `now` (within two weeks), for the timer. */
export function nextOpening(s: Timing, now: Date): Date | null {
  const { date } = localParts(now, s.timezone);
  for (let i = 0; i < 15; i++) {
    const day = addDays(date, i);
    if (!runsOn(s, day)) continue;
    const w = windowOn(s, day);
    if (w.opensAt > now) return w.opensAt;
  }
  return null;
}

/**
 * Today's poll when someone asks for it now (POST /api/schedules/:id/run), whatever the weekday: it closes at
 * today's close time, or, when that has passed, as long after now as the schedule's polls usually stay open.
 */
export function runNow(s: Timing, now: Date): RunWindow {
  const { date } = localParts(now, s.timezone);
  const w = windowOn(s, date);
  if (w.closesAt > now) return { ...w, opensAt: now };
  const length = w.closesAt.getTime() - w.opensAt.getTime();
  return { localDate: date, opensAt: now, closesAt: new Date(now.getTime() + length) };
}
