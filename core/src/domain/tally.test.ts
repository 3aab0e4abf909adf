import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../protocol/index.ts';
import { winnerText } from './tally.ts';

const snapshot = (place: number[], menu: number[]): Snapshot => ({
  poll_id: 'p',
  version: 1,
  status: 'closed',
  results_hidden: false,
  total_voters: 3,
  leader: null,
  questions: [
    {
      question_id: 'place',
      kind: 'place',
      voters: 3,
      leader: null,
      options: place.map((n, i) => ({ option_id: `p${i}`, label: `Place ${i}`, vote_count: n })),
    },
    {
      question_id: 'menu',
      kind: 'menu',
      voters: 3,
      leader: null,
      options: menu.map((n, i) => ({ option_id: `m${i}`, label: `Menu ${i}`, vote_count: n })),
    },
  ],
});

describe('winnerText', () => {
  it('names the first question’s top option with its count, ignoring later questions', () => {
    expect(winnerText(snapshot([1, 3, 0], [9, 0]))).toBe('🏆 Winner: Place 1 with 3 votes');
    expect(winnerText(snapshot([1, 0], [0]), (n) => `*${n}*`)).toBe('🏆 Winner: *Place 0* with 1 vote');
  });
  it('announces a tie as every option sharing the top, and says so when nobody voted', () => {
    expect(winnerText(snapshot([2, 0, 2, 2], [1, 0]), (n) => `**${n}**`)).toBe(
      '🏆 A tie between **Place 0**, **Place 2** and **Place 3** (2 each)',
    );
    expect(winnerText(snapshot([0, 0, 0], [1, 0]))).toBe('The poll closed with no votes.');
  });
});
