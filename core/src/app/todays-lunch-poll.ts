// "Today's lunch poll" of a workspace: the newest lunch poll that is still open, else the newest one made in the last
// day (closed: its result). The original lunch-vote client asks for it without naming a poll (`/api/votes/stats`,
// `/ws/votes?emp_no=`), and an office's screen keeps showing the decision after the close instead of "no poll".
import type { PollStore } from '../ports/store.ts';

/** How long after its creation a closed lunch poll is still "today's". */
export const TODAYS_POLL_MS = 24 * 3_600_000;

export async function todaysLunchPoll(
  polls: Pick<PollStore, 'listPolls'>,
  workspace: string,
  now: Date = new Date(),
): Promise<string | null> {
  const [open] = await polls.listPolls({ workspace, template: 'lunch', openOnly: true, limit: 1 });
  if (open) return open.id;
  const [latest] = await polls.listPolls({ workspace, template: 'lunch', limit: 1 });
  return latest && now.getTime() - Date.parse(latest.created_at) < TODAYS_POLL_MS ? latest.id : null;
}
