// Which catalog places go into a scheduled poll: all active ones, or a random N, leaving out the places visited in
// the last D days (but never fewer than two places: then the ones visited longest ago come back).
import type { CatalogPlace, PlacesRule } from '../../protocol/index.ts';
import { daysBetween } from './schedule-clock.ts';

export function pickPlaces(
  active: readonly CatalogPlace[],
  rule: PlacesRule,
  lastVisits: ReadonlyMap<string, string>,
  today: string,
  random: () => number = Math.random,
): CatalogPlace[] {
  let pool = [...active];
  const days = rule.exclude_visited_days;
  if (days !== undefined) {
    const recent = (p: CatalogPlace) => {
      const last = lastVisits.get(p.id);
      // The last D days: yesterday is the last 1 day, the same weekday a week ago is within the last 7.
      return last !== undefined && daysBetween(last, today) <= days;
    };
    const fresh = pool.filter((p) => !recent(p));
    const back = pool
      .filter(recent)
      .sort((a, b) => (lastVisits.get(a.id) ?? '').localeCompare(lastVisits.get(b.id) ?? ''));
    const keep = new Set([...fresh, ...back.slice(0, Math.max(0, 2 - fresh.length))].map((p) => p.id));
    pool = pool.filter((p) => keep.has(p.id));
  }
  if (rule.rule === 'random' && rule.count !== undefined && pool.length > rule.count) {
    const shuffled = [...pool];
    for (let i = shuffled.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [shuffled[i], shuffled[j]] = [shuffled[j] as CatalogPlace, shuffled[i] as CatalogPlace];
    }
    const chosen = new Set(shuffled.slice(0, rule.count).map((p) => p.id));
    pool = pool.filter((p) => chosen.has(p.id)); // catalog order, so the poll reads the same way every day
  }
  return pool;
}
