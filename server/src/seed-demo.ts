// Seeds the demo lunch poll (fixed id and option ids p1…, so the printed links and the original client's ids stay the
// same) and the web workspace's catalog, which starts as the same places; does nothing when the poll exists.
import { createPoll, DEMO_PLACES, DEMO_POLL_ID, listCatalog, type PollDeps } from '@livevote/core';

export async function seedDemo(deps: PollDeps): Promise<'created' | 'exists'> {
  if (deps.catalog) await listCatalog({ catalog: deps.catalog }, 'web');
  if (await deps.polls.getPoll(DEMO_POLL_ID)) return 'exists';
  const r = await createPoll(
    deps,
    { template: 'lunch', title: '오늘 점심 · Lunch today', places: DEMO_PLACES },
    { kind: 'system', key: 'seed' },
    DEMO_POLL_ID,
  );
  if (!r.ok) throw new Error(`demo poll refused: ${r.message}`);
  return 'created';
}
