// Voters over time as a line, from the snapshots the board has seen. Bounded, so a board left on for days stays small.
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

export function VotesChart({ total, label }: { total: number; label: string }) {
  const [points, setPoints] = useState<Point[]>([]);
  useEffect(() => {
    setPoints((ps) => addPoint(ps, { t: Date.now(), n: total }));
  }, [total]);
  const w = 360;
  const h = 120;
  // The line runs to "now" at the latest count, so a quiet minute shows as a flat stretch.
  const now = Date.now();
  const last = points.at(-1);
  const pts = last ? [...points, { t: Math.max(now, last.t + 1), n: last.n }] : [];
  const t0 = pts[0]?.t ?? now;
  const t1 = pts.at(-1)?.t ?? now + 1;
  const max = Math.max(1, ...pts.map((p) => p.n));
  const x = (t: number) => ((t - t0) / Math.max(1, t1 - t0)) * w;
  const y = (n: number) => h - (n / max) * (h - 8) - 4;
  const xy = pts.map((p) => `${x(p.t).toFixed(1)},${y(p.n).toFixed(1)}`);
  return (
    <figure className="chart">
      <figcaption>{label}</figcaption>
      <svg viewBox={`0 0 ${w} ${h}`} width="100%" height={h} aria-hidden="true" preserveAspectRatio="none">
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
