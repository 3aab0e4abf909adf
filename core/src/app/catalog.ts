// The places (with their menus) a workspace's lunch polls are made from. Until a workspace has run a lunch poll it
// starts from the demo's places; after that, its newest lunch poll's places are its catalog. Never another
// workspace's.
import { DEMO_PLACES } from '../domain/demo-lunch.ts';
import type { PollStore } from '../ports/store.ts';
import type { PlaceInput, Poll } from '../protocol/index.ts';
import type { Snapshots } from './snapshots.ts';

export interface CatalogDeps {
  polls: Pick<PollStore, 'listPolls'>;
  snapshots: Snapshots;
}

export async function catalogOf(deps: CatalogDeps, workspace: string): Promise<PlaceInput[]> {
  const [latest] = await deps.polls.listPolls({ workspace, template: 'lunch', limit: 1 });
  const poll = latest && (await deps.snapshots.poll(latest.id));
  return poll ? placesOf(poll) : DEMO_PLACES;
}

/** A lunch poll's places with the menus that belong to each. */
function placesOf(poll: Poll): PlaceInput[] {
  const menus = poll.questions.find((q) => q.kind === 'menu')?.options ?? [];
  const labelEn = (o: { label_en?: string }) => (o.label_en ? { label_en: o.label_en } : {});
  return (poll.questions.find((q) => q.kind === 'place')?.options ?? []).map((p) => ({
    name: p.label,
    ...labelEn(p),
    menus: menus.filter((m) => m.place_id === p.id).map((m) => ({ name: m.label, ...labelEn(m) })),
  }));
}
