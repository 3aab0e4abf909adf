import { describe, expect, it } from 'vitest';
import { type Snapshot, winnersOf } from '../protocol/index.ts';
import { buildPoll } from './poll-definition.ts';
import { buildSnapshot, votersLine, winnerText } from './tally.ts';

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

describe('buildSnapshot while results are hidden', () => {
  const counts = { o1: 2, o2: 1, '#q1': 3 };
  const poll = (settings: { show_turnout?: boolean } = {}) =>
    buildPoll(
      {
        template: 'choice',
        title: 'T',
        options: ['A', 'B'],
        settings: { results_hidden: true, ...settings },
      },
      'p',
      new Date(),
    );

  it('hides the turnout with the counts, unless the poll shows it; all of it once closed', () => {
    const hidden = buildSnapshot(poll(), { version: 3, status: 'open', totalVoters: 3, counts });
    expect([hidden.total_voters, hidden.questions[0]?.voters]).toEqual([0, 0]);
    expect(hidden.questions[0]?.options.map((o) => o.vote_count)).toEqual([0, 0]);
    expect(votersLine(poll(), hidden)).toBe('');

    const turnout = poll({ show_turnout: true });
    const shown = buildSnapshot(turnout, { version: 3, status: 'open', totalVoters: 3, counts });
    expect([shown.total_voters, shown.questions[0]?.voters]).toEqual([3, 3]);
    expect(shown.questions[0]?.options.map((o) => o.vote_count)).toEqual([0, 0]);
    expect(votersLine(turnout, shown)).toBe(' · 3 voters');

    const closed = buildSnapshot(poll(), { version: 4, status: 'closed', totalVoters: 3, counts });
    expect([closed.total_voters, closed.questions[0]?.voters]).toEqual([3, 3]);
    expect(closed.questions[0]?.options.map((o) => o.vote_count)).toEqual([2, 1]);
    expect(votersLine(poll(), closed)).toBe(' · 3 voters');
  });
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
  it('says why a lunch poll was decided, with the platform’s emphasis, when the lunch rules decided it', () => {
    const tied = snapshot([2, 2, 0], [0, 0]);
    const ids = tied.questions[0]?.options.map((o) => o.option_id) ?? [];
    tied.decision = {
      outcome: 'decided',
      reason: 'least_recent',
      option_id: ids[1] ?? '',
      label: 'Place 1',
      vote_count: 2,
      tied: [ids[0] ?? '', ids[1] ?? ''],
      last_visits: { [ids[0] ?? '']: '2026-11-30', [ids[1] ?? '']: null },
      total_voters: 4,
      quorum: null,
      text: 'plain',
    };
    expect(winnerText(tied, (n) => `*${n}*`)).toBe(
      '🏆 Winner: *Place 1*, tied with *Place 0* at 2 votes; it wins as the place visited longest ago (never visited).',
    );
  });
});

describe('winnersOf', () => {
  const decided = (s: Snapshot, d: Partial<NonNullable<Snapshot['decision']>>): Snapshot => ({
    ...s,
    decision: {
      outcome: 'decided',
      reason: 'random',
      option_id: null,
      label: null,
      vote_count: 0,
      total_voters: 4,
      text: 'plain',
      ...d,
    },
  });
  const ids = (s: Snapshot) => winnersOf(s).map((w) => `${w.question_id}:${w.option_id}:${w.vote_count}`);

  it('shows ties as ties, per question, and nobody where nobody voted, when no rules decided', () => {
    expect(ids(snapshot([2, 0, 2], [0, 0]))).toEqual(['place:p0:2', 'place:p2:2']);
    expect(ids(snapshot([1, 3], [2, 2]))).toEqual(['place:p1:3', 'menu:m0:2', 'menu:m1:2']);
  });

  it('takes the lunch rules’ word for the first question: the place of a tie they broke, nobody on no decision', () => {
    expect(ids(decided(snapshot([2, 2], [1, 0]), { option_id: 'p1', vote_count: 2 }))).toEqual([
      'place:p1:2',
      'menu:m0:1',
    ]);
    const short = decided(snapshot([3, 1], [0, 0]), { outcome: 'no_decision', reason: 'quorum_not_met' });
    expect(ids(short)).toEqual([]);
  });
});
