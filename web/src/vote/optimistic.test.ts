import type { Snapshot } from '@livevote/core/protocol';
import { describe, expect, it } from 'vitest';
import { applyTap, dishesKept, withPending } from './optimistic.ts';

describe('a tap on the vote page', () => {
  it('single choice: selects, switches, and takes back', () => {
    const q = { max_choices: 1 };
    expect(applyTap(q, [], 'a')).toEqual({ ok: true, next: ['a'] });
    expect(applyTap(q, ['a'], 'b')).toEqual({ ok: true, next: ['b'] });
    expect(applyTap(q, ['a'], 'a')).toEqual({ ok: true, next: [] });
  });

  it('multiple choice: toggles up to the limit, sorted', () => {
    const q = { max_choices: 2 };
    expect(applyTap(q, ['b'], 'a')).toEqual({ ok: true, next: ['a', 'b'] });
    expect(applyTap(q, ['a', 'b'], 'c')).toEqual({ ok: false, reason: 'limit' });
    expect(applyTap(q, ['a', 'b'], 'a')).toEqual({ ok: true, next: ['b'] });
  });

  it('shows the pending change on the counts, never below zero, in its own question only', () => {
    const s = {
      poll_id: 'p',
      version: 1,
      status: 'open',
      results_hidden: false,
      total_voters: 1,
      leader: null,
      questions: [
        {
          question_id: 'q1',
          kind: 'choice',
          voters: 1,
          leader: null,
          options: [
            { option_id: 'a', label: 'A', vote_count: 1 },
            { option_id: 'b', label: 'B', vote_count: 0 },
          ],
        },
        {
          question_id: 'q2',
          kind: 'choice',
          voters: 0,
          leader: null,
          options: [{ option_id: 'a', label: 'A', vote_count: 0 }],
        },
      ],
    } as Snapshot;
    const after = withPending(s, 'q1', ['a', 'b'], ['b']);
    expect(after.questions[0]?.options.map((o) => o.vote_count)).toEqual([0, 0]);
    expect(after.questions[1]).toBe(s.questions[1]);
    expect(withPending(s, 'q1', ['a'], ['b']).questions[0]?.options.map((o) => o.vote_count)).toEqual([0, 1]);
  });
});

describe('dishesKept', () => {
  const menu = {
    options: [
      { id: 'm1', label: 'Pho', place_id: 'p1' },
      { id: 'm2', label: 'Bun', place_id: 'p1' },
      { id: 'm3', label: 'Ramen', place_id: 'p2' },
    ],
  };
  it('keeps only the dishes of places still chosen', () => {
    expect(dishesKept(menu, ['m1', 'm3'], ['p1', 'p2'])).toEqual(['m1', 'm3']);
    expect(dishesKept(menu, ['m1', 'm3'], ['p2'])).toEqual(['m3']);
    expect(dishesKept(menu, ['m2'], [])).toEqual([]);
    expect(dishesKept(menu, ['m9'], ['p1'])).toEqual([]); // a dish the poll no longer has
  });
});
