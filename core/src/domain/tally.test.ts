import { describe, expect, it } from 'vitest';
import type { Snapshot } from '../protocol/index.ts';
import { firstQuestionWinners } from './tally.ts';

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

describe('firstQuestionWinners', () => {
  it('names the first question’s top option with its count, ignoring later questions', () => {
    expect(firstQuestionWinners(snapshot([1, 3, 0], [9, 0]))).toEqual({ names: ['Place 1'], top: 3 });
  });
  it('reports a tie as every option sharing the top, and nobody when nobody voted', () => {
    expect(firstQuestionWinners(snapshot([2, 0, 2], [1, 0]))).toEqual({
      names: ['Place 0', 'Place 2'],
      top: 2,
    });
    expect(firstQuestionWinners(snapshot([0, 0, 0], [1, 0]))).toEqual({ names: [], top: 0 });
  });
});
