// Voters over time for the board's chart, from the ballots the store holds, so a board opened (or reloaded) mid-poll
// draws the whole morning, not a line that starts when the screen came on. Counts only: no voter ever leaves here.
import type { BallotRow, BallotStore } from '../ports/store.ts';
import type { TimelinePoint, TimelineResponse } from '../protocol/index.ts';
import type { Snapshots } from './snapshots.ts';

export const TIMELINE_LIMIT = 240;

/**
 * Ballots in the poll's main (first) question, counted up by the time each was cast. A ballot that was changed
 * counts from its last change (the store keeps one time per ballot) and a taken-back one not at all, so the line
 * ends at the main question's current `voters`. Anonymous polls' rows carry no voter: one ballot's rows (one per
 * chosen option) share their `cast_at`, which is what groups them.
 */
export function timelineOf(
  rows: readonly BallotRow[],
  questionId: string,
  limit = TIMELINE_LIMIT,
): TimelinePoint[] {
  const firstSeen = new Map<string, string>();
  for (const r of rows) {
    if (r.question_id !== questionId) continue;
    const key = r.voter ? `v:${r.voter}` : `t:${r.cast_at}`;
    if (!firstSeen.has(key)) firstSeen.set(key, r.cast_at);
  }
  const times = [...firstSeen.values()].sort((a, b) => Date.parse(a) - Date.parse(b));
  const points = times.map((at, i) => ({ at, voters: i + 1 }));
  if (points.length <= limit) return points;
  // Evenly spread, always keeping the last point (the current count).
  const step = (points.length - 1) / (limit - 1);
  return Array.from({ length: limit }, (_, i) => points[Math.round(i * step)] as TimelinePoint);
}

/** The poll's timeline, or null for an unknown poll. Empty while the poll hides its turnout. */
export async function turnoutTimeline(
  deps: { ballots: Pick<BallotStore, 'exportBallots'>; snapshots: Pick<Snapshots, 'fresh' | 'poll'> },
  pollId: string,
): Promise<TimelineResponse | null> {
  const snapshot = await deps.snapshots.fresh(pollId);
  const poll = snapshot && (await deps.snapshots.poll(pollId));
  if (!snapshot || !poll) return null;
  const main = poll.questions[0];
  const hidden = snapshot.results_hidden && !poll.settings.show_turnout;
  if (!main || hidden) return { poll_id: pollId, version: snapshot.version, points: [] };
  const rows = await deps.ballots.exportBallots(pollId);
  return { poll_id: pollId, version: snapshot.version, points: timelineOf(rows, main.id) };
}
