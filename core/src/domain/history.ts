// Replays a poll's audit entries into its tally over time, for the closed-poll archive.
import { type AuditEntry, HISTORY_LIMIT, type HistoryPoint } from '../ports/archive.ts';
import { questionCountKey } from './tally.ts';

type Change = Pick<
  AuditEntry,
  'type' | 'at' | 'question_id' | 'option_ids' | 'previous_option_ids' | 'changed'
>;

export function replayHistory(entries: readonly Change[], limit = HISTORY_LIMIT): HistoryPoint[] {
  const counts: Record<string, number> = {};
  const bump = (key: string, by: number) => {
    const n = (counts[key] ?? 0) + by;
    if (n === 0) delete counts[key];
    else counts[key] = n;
  };
  const points: HistoryPoint[] = [];
  for (const e of entries) {
    if ((e.type !== 'vote' && e.type !== 'retract') || e.changed === false || !e.question_id) continue;
    const before = e.previous_option_ids ?? [];
    const after = e.option_ids ?? [];
    for (const o of before) bump(o, -1);
    for (const o of after) bump(o, 1);
    if (before.length === 0 && after.length > 0) bump(questionCountKey(e.question_id), 1);
    if (before.length > 0 && after.length === 0) bump(questionCountKey(e.question_id), -1);
    points.push({ at: e.at, change: points.length + 1, counts: { ...counts } });
  }
  return sample(points, limit);
}

/** At most `limit` points, evenly spread, always keeping the first and the last (the final tally). */
function sample<T>(points: T[], limit: number): T[] {
  if (points.length <= limit) return points;
  if (limit <= 1) return points.slice(-1);
  const step = (points.length - 1) / (limit - 1);
  return Array.from({ length: limit }, (_, i) => points[Math.round(i * step)] as T);
}
