import { describe, expect, it } from 'vitest';
import type { BallotRow } from '../ports/store.ts';
import { timelineOf } from './turnout-timeline.ts';

const row = (cast_at: string, question_id: string, option_id: string, voter?: string): BallotRow => ({
  cast_at,
  question_id,
  option_id,
  label: option_id,
  ...(voter ? { voter } : {}),
});

describe('the turnout timeline', () => {
  it('counts ballots of the main question up by time, one per voter however many options they chose', () => {
    const rows = [
      row('2026-12-01T03:02:00.000Z', 'place', 'p2', 'emp:2'),
      row('2026-12-01T03:01:00.000Z', 'place', 'p1', 'emp:1'),
      row('2026-12-01T03:01:00.000Z', 'place', 'p3', 'emp:1'),
      row('2026-12-01T03:00:30.000Z', 'menu', 'm1', 'emp:3'),
      row('2026-12-01T03:05:00.000Z', 'place', 'p1', 'emp:3'),
    ];
    expect(timelineOf(rows, 'place')).toEqual([
      { at: '2026-12-01T03:01:00.000Z', voters: 1 },
      { at: '2026-12-01T03:02:00.000Z', voters: 2 },
      { at: '2026-12-01T03:05:00.000Z', voters: 3 },
    ]);
  });

  it('groups an anonymous ballot by its time, and stays bounded, ending on the current count', () => {
    const anon = [row('2026-12-01T03:01:00.000Z', 'q1', 'o1'), row('2026-12-01T03:01:00.000Z', 'q1', 'o2')];
    expect(timelineOf(anon, 'q1')).toEqual([{ at: '2026-12-01T03:01:00.000Z', voters: 1 }]);
    const many = Array.from({ length: 1_000 }, (_, i) =>
      row(new Date(Date.UTC(2026, 11, 1, 3) + i * 1_000).toISOString(), 'q1', 'o1', `emp:${i}`),
    );
    const points = timelineOf(many, 'q1', 50);
    expect(points).toHaveLength(50);
    expect(points.at(-1)?.voters).toBe(1_000);
    expect(points[0]?.voters).toBe(1);
  });
});
