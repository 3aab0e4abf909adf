// What the team ate when: the visits the polls decided, and per catalog place its wins and days since the last visit.
import { daysBetween, localParts } from '../domain/lunch/schedule-clock.ts';
import type { CatalogStore, VisitStore } from '../ports/lunch-store.ts';
import type { VisitsResponse } from '../protocol/index.ts';

export async function visitHistory(
  deps: { lunch: VisitStore & CatalogStore },
  workspace: string,
  now: Date = new Date(),
  timezone: string = Intl.DateTimeFormat().resolvedOptions().timeZone,
): Promise<VisitsResponse> {
  const [visits, places] = await Promise.all([deps.lunch.visits(workspace), deps.lunch.places(workspace)]);
  const today = localParts(now, timezone).date;
  return {
    visits,
    places: places.map((p) => {
      const mine = visits.filter((v) => v.place_id === p.id);
      const last = mine[0]?.date ?? null;
      return {
        place_id: p.id,
        name: p.name,
        wins: mine.length,
        last_visit: last,
        days_since: last ? daysBetween(last, today) : null,
      };
    }),
  };
}
