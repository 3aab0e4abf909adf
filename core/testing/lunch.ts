// Helpers for lunch-ritual tests: schedule times near the real clock (the database checks close times against its
// own clock, so a test's polls must close in the real future), and votes for places.
import { castVote } from '../src/app/cast-vote.ts';
import type { Core } from '../src/app/core.ts';
import { localParts } from '../src/domain/lunch/schedule-clock.ts';
import { webVoter } from '../src/domain/voter.ts';

/**
 * A time zone and HH:MM times for a schedule that opens `openInMin` minutes from now (rounded up to a minute) and
 * closes `lengthMin` after that, on the same local day: picks a zone where that is not near midnight.
 */
export function scheduleNearNow(
  openInMin = 2,
  lengthMin = 60,
  now = new Date(),
): { timezone: string; open_at: string; close_at: string; date: string } {
  for (const timezone of ['Asia/Seoul', 'Europe/London', 'America/New_York', 'Pacific/Auckland']) {
    const open = new Date(Math.ceil((now.getTime() + openInMin * 60_000) / 60_000) * 60_000);
    const close = new Date(open.getTime() + lengthMin * 60_000);
    const hhmm = (d: Date) =>
      new Intl.DateTimeFormat('en-GB', {
        timeZone: timezone,
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      }).format(d);
    if (localParts(open, timezone).date !== localParts(close, timezone).date) continue;
    if (hhmm(open) < '00:30' || hhmm(close) > '23:30') continue;
    return { timezone, open_at: hhmm(open), close_at: hhmm(close), date: localParts(open, timezone).date };
  }
  throw new Error('no time zone fits');
}

/** Employee `emp` votes for a place (by its option id) in a lunch poll. */
export async function placeVote(core: Core, pollId: string, emp: number, placeId: string): Promise<void> {
  const r = await castVote(core, {
    pollId,
    questionId: 'place',
    optionIds: [placeId],
    voter: webVoter(String(emp)),
  });
  if (!r.ok) throw new Error(`vote refused: ${r.reason}`);
}
