// "closes 12:30" typed in a chat: the next moment the clock on the typist's wall shows that time. Chat platforms tell
// us the sender's zone (Teams: `localTimezone`, else the offset of `localTimestamp`); the server's zone is the last
// resort.
import { wallClockMs } from './wall-clock.ts';

/** Where the wall clock is: an IANA zone, or a fixed offset from UTC in minutes (east positive). */
export type WallClock = { timeZone: string } | { offsetMinutes: number };

/** Reads `H:MM` or `HH:MM` (24 h), or with am/pm (`1:15pm`); null when it is not a time. */
export function parseClockTime(text: string): { hour: number; minute: number } | null {
  const m = /^(\d{1,2})[:.](\d{2})\s*(am|pm)?$/i.exec(text.trim());
  if (!m) return null;
  let hour = Number(m[1]);
  const minute = Number(m[2]);
  const half = m[3]?.toLowerCase();
  if (half) {
    if (hour < 1 || hour > 12) return null;
    hour = (hour % 12) + (half === 'pm' ? 12 : 0);
  }
  if (hour > 23 || minute > 59) return null;
  return { hour, minute };
}

/** Minutes the zone is ahead of UTC at `at` (Seoul: 540). */
function offsetAt(clock: WallClock, at: Date): number {
  if ('offsetMinutes' in clock) return clock.offsetMinutes;
  return Math.round((wallClockMs(at, clock.timeZone) - Math.floor(at.getTime() / 1000) * 1000) / 60_000);
}

/** Whether the zone name is one this runtime knows. */
export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * The first instant after `now` at which the wall clock shows hour:minute: today if that is still ahead, else
 * tomorrow. Across a daylight-saving change it takes the offset in force at that moment.
 */
export function nextWallClockTime(time: { hour: number; minute: number }, clock: WallClock, now: Date): Date {
  const offset = offsetAt(clock, now);
  const local = new Date(now.getTime() + offset * 60_000); // the wall clock, read in UTC fields
  for (let day = 0; day < 3; day++) {
    const wall = Date.UTC(
      local.getUTCFullYear(),
      local.getUTCMonth(),
      local.getUTCDate() + day,
      time.hour,
      time.minute,
    );
    // Two passes settle the offset of the target moment itself (it may differ from now's across a DST change).
    let at = wall - offset * 60_000;
    at = wall - offsetAt(clock, new Date(at)) * 60_000;
    if (at > now.getTime()) return new Date(at);
  }
  throw new Error('unreachable: a wall-clock time recurs within a day');
}
