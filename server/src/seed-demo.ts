// Seeds the demo lunch poll (fixed id, so the printed links stay the same) from the web workspace's catalog, which
// starts as the demo's places; does nothing when the poll exists.
import { createPoll, DEMO_PLACES, DEMO_POLL_ID, type PollDeps } from '@livevote/core';

export async function seedDemo(deps: PollDeps): Promise<'created' | 'exists'> {
  if (await deps.polls.getPoll(DEMO_POLL_ID)) return 'exists';
  const r = await createPoll(
    deps,
    { template: 'lunch', title: '오늘 점심 · Lunch today', ...(deps.catalog ? {} : { places: DEMO_PLACES }) },
    { kind: 'system', key: 'seed' },
    DEMO_POLL_ID,
  );
  if (!r.ok) throw new Error(`demo poll refused: ${r.message}`);
  return 'created';
}
