import { describe, expect, it } from 'vitest';
import { replayHistory } from './history.ts';

const at = (s: number) => new Date(Date.UTC(2026, 10, 24, 3, 0, s)).toISOString();

describe('replayHistory', () => {
  it('turns votes, a change of mind and a retract into the tally after each change', () => {
    const h = replayHistory([
      {
        type: 'vote',
        at: at(1),
        question_id: 'q',
        option_ids: ['a'],
        previous_option_ids: [],
        changed: true,
      },
      {
        type: 'vote',
        at: at(2),
        question_id: 'q',
        option_ids: ['b'],
        previous_option_ids: [],
        changed: true,
      },
      {
        type: 'vote',
        at: at(3),
        question_id: 'q',
        option_ids: ['b'],
        previous_option_ids: ['a'],
        changed: true,
      },
      // A repeated click that chose the same thing changes nothing and adds no point.
      {
        type: 'vote',
        at: at(4),
        question_id: 'q',
        option_ids: ['b'],
        previous_option_ids: ['b'],
        changed: false,
      },
      {
        type: 'retract',
        at: at(5),
        question_id: 'q',
        option_ids: [],
        previous_option_ids: ['b'],
        changed: true,
      },
      { type: 'poll_closed', at: at(6) },
    ]);
    expect(h.map((p) => p.counts)).toEqual([
      { a: 1, '#q': 1 },
      { a: 1, b: 1, '#q': 2 },
      { b: 2, '#q': 2 },
      { b: 1, '#q': 1 },
    ]);
    expect(h.map((p) => p.change)).toEqual([1, 2, 3, 4]);
    expect(h[3]?.at).toBe(at(5));
  });

  it('samples a long poll down to the limit and always keeps the final tally', () => {
    const votes = Array.from({ length: 1000 }, (_, i) => ({
      type: 'vote' as const,
      at: at(i % 60),
      question_id: 'q',
      option_ids: [`o${i}`],
      previous_option_ids: [],
      changed: true,
    }));
    const h = replayHistory(votes, 10);
    expect(h).toHaveLength(10);
    expect(h[0]?.change).toBe(1);
    expect(h[9]?.change).toBe(1000);
    expect(h[9]?.counts['#q']).toBe(1000);
  });
});
