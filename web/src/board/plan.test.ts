import { describe, expect, it } from 'vitest';
import { pickShown, planBars, ROW_U, stageUnit } from './plan.ts';

describe('the board layout plan', () => {
  it('uses the largest rows that fit, then two columns, then "+N more", never more rows than the height', () => {
    expect(planBars(4, true, 38)).toMatchObject({ density: 'xl', columns: 1, shown: 4, more: false });
    expect(planBars(5, true, 38)).toMatchObject({ density: 'l', columns: 1, shown: 5 });
    expect(planBars(12, true, 38)).toMatchObject({ columns: 2, rows: 6, shown: 12, more: false });
    const tight = planBars(12, true, 20);
    expect(tight).toMatchObject({ density: 'm', columns: 2, rows: 3, shown: 5, more: true });
    for (const [count, en, avail] of [
      [3, false, 30],
      [12, true, 38],
      [12, true, 26],
      [40, false, 38],
      [9, true, 80],
    ] as const) {
      const p = planBars(count, en, avail);
      expect(p.rows * ROW_U[p.density][en ? 'en' : 'plain']).toBeLessThanOrEqual(avail + 1e-9);
      expect(p.shown + (p.more ? count - p.shown : 0)).toBe(count);
      expect(p.shown + (p.more ? 1 : 0)).toBeLessThanOrEqual(p.rows * p.columns);
    }
  });

  it('keeps the most voted options, in poll order', () => {
    const opts = [3, 0, 7, 1, 7, 2].map((vote_count, i) => ({ id: `o${i}`, vote_count }));
    expect(pickShown(opts, 3).map((o) => o.id)).toEqual(['o0', 'o2', 'o4']);
    expect(pickShown(opts, 10)).toHaveLength(6);
  });

  it('sizes the stage by the narrower of width and 16:9 height', () => {
    expect(stageUnit(1920, 1080)).toBeCloseTo(19.2);
    expect(stageUnit(1280, 720)).toBeCloseTo(12.8);
    expect(stageUnit(3840, 2160)).toBeCloseTo(38.4);
    expect(stageUnit(2560, 1080)).toBeCloseTo(19.2);
  });
});
