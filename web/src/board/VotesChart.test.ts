import { describe, expect, it } from 'vitest';
import { addPoint, MAX_POINTS, type Point } from './VotesChart.tsx';

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
});
