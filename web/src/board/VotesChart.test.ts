import { describe, expect, it } from 'vitest';
import { addPoint, chartPoints, MAX_POINTS, type Point } from './VotesChart.tsx';

describe('the board chart history', () => {
  it('skips repeats and stays bounded however long the board runs, newest last', () => {
    let ps: Point[] = [];
    ps = addPoint(ps, { t: 0, n: 1 });
    expect(addPoint(ps, { t: 1, n: 1 })).toBe(ps);
    for (let i = 1; i <= 10_000; i++) ps = addPoint(ps, { t: i, n: i + 1 });
    expect(ps.length).toBeLessThanOrEqual(MAX_POINTS);
    expect(ps.at(-1)).toEqual({ t: 10_000, n: 10_001 });
    expect(ps.every((p, i) => i === 0 || p.t > (ps[i - 1] as Point).t)).toBe(true);
  });

  it('starts from zero and the server history on a reloaded board, not from a flat block at today’s count', () => {
    const history = [
      { t: 100, n: 1 },
      { t: 200, n: 2 },
      { t: 300, n: 5 },
    ];
    // The board was reloaded at t=1000 with 5 voters: its own first point repeats the history's last.
    const pts = chartPoints(0, history, [{ t: 1000, n: 5 }], 2000);
    expect(pts[0]).toEqual({ t: 0, n: 0 });
    expect(pts.map((p) => p.n)).toEqual([0, 1, 2, 5, 5, 5]);
    expect(pts.at(-1)).toEqual({ t: 2000, n: 5 });
    // Without history the line still rises from zero at the poll's start.
    expect(chartPoints(0, [], [{ t: 1000, n: 5 }], 2000).map((p) => p.n)).toEqual([0, 5, 5]);
  });
});
