// Voters over time as a line: the poll's history from the server (so a reloaded board draws the whole morning),
// then every change this board sees. Bounded, so a board left on for days stays small.
import { useEffect, useState } from 'react';

export const MAX_POINTS = 240;

export interface Point {
  t: number;
  n: number;
}

/** Adds a point, keeping at most MAX_POINTS by merging the oldest neighbours (older history gets coarser). */
export function addPoint(points: Point[], p: Point): Point[] {
  const last = points.at(-1);
  if (last && last.n === p.n) return points;
  const next = [...points, p];
  if (next.length <= MAX_POINTS) return next;
  const half = next.slice(0, MAX_POINTS / 2).filter((_, i) => i % 2 === 1);
  return [...half, ...next.slice(MAX_POINTS / 2)];
}

/**
 * The line to draw: from zero at the poll's start, through the server's history, then the live points newer than
 * it, on to `now` at the latest count (a quiet minute shows as a flat stretch).
 */
export function chartPoints(
  start: number,
  history: readonly Point[],
  live: readonly Point[],
  now: number,
): Point[] {
  const lastHistory = history.at(-1)?.t ?? Number.NEGATIVE_INFINITY;
  const merged = [...history, ...live.filter((p) => p.t > lastHistory)];
  const first = merged[0];
  const pts = first && first.t > start ? [{ t: start, n: 0 }, ...merged] : merged;
  const last = pts.at(-1);
  return last ? [...pts, { t: Math.max(now, last.t + 1), n: last.n }] : [];
}

export function VotesChart({
  voters,
  history,
  start,
  label,
}: {
  voters: number;
  history: readonly Point[];
  start: number;
  label: string;
}) {
  const [live, setLive] = useState<Point[]>([]);
  useEffect(() => {
    setLive((ps) => addPoint(ps, { t: Date.now(), n: voters }));
  }, [voters]);
  const w = 360;
  const h = 120;
  const pts = chartPoints(start, history, live, Date.now());
  const t0 = pts[0]?.t ?? 0;
  const t1 = pts.at(-1)?.t ?? 1;
  const max = Math.max(1, ...pts.map((p) => p.n));
  const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * w;
  const y = (n: number) => h - (n / max) * (h - 8) - 4;
  // A step line: the count holds until the next ballot.
  const xy: string[] = [];
  pts.forEach((p, i) => {
    const prev = pts[i - 1];
    if (prev) xy.push(`${x(p.t).toFixed(1)},${y(prev.n).toFixed(1)}`);
    xy.push(`${x(p.t).toFixed(1)},${y(p.n).toFixed(1)}`);
  });
  return (
    <figure className="chart">
      <figcaption>{label}</figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} aria-hidden="true" preserveAspectRatio="none" data-points={pts.length}>
        {xy.length > 1 && (
          <>
            <polyline points={`0,${h} ${xy.join(' ')} ${w},${h}`} className="chart-fill" />
            <polyline points={xy.join(' ')} className="chart-line" />
          </>
        )}
      </svg>
    </figure>
  );
}
