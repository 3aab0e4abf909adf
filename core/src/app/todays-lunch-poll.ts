// "Today's lunch poll" of a workspace: the newest lunch poll that is still open. The original lunch-vote client asks
// for it without naming a poll (`/api/votes/stats`, `/ws/votes?emp_no=`).
import type { PollStore } from '../ports/store.ts';

export async function todaysLunchPoll(
  polls: Pick<PollStore, 'listPolls'>,
  workspace: string,
): Promise<string | null> {
  const [poll] = await polls.listPolls({ workspace, template: 'lunch', openOnly: true, limit: 1 });
  return poll?.id ?? null;
}
