// The messages a change between two snapshots becomes, on hand-built snapshots: a lunch poll (place, then menu)
// plus a plain choice question, so each kind of per-option message can be told apart.
import type { ServerFrame, Snapshot } from '@livevote/core/protocol';
import { describe, expect, it } from 'vitest';
import { snapshotFrames } from './snapshot-frames.ts';

const QUESTIONS = [
  {
    question_id: 'q1',
    kind: 'place',
    options: [
      { option_id: 'p1', label: 'Pizza' },
      { option_id: 'p2', label: 'Sushi' },
    ],
  },
  {
    question_id: 'q2',
    kind: 'menu',
    options: [
      { option_id: 'm1', label: 'Margherita', place_id: 'p1' },
      { option_id: 'm2', label: 'Salmon roll', place_id: 'p2' },
    ],
  },
  {
    question_id: 'q3',
    kind: 'choice',
    options: [
      { option_id: 'c1', label: 'Yes' },
      { option_id: 'c2', label: 'No' },
    ],
  },
] as const;

type QuestionId = (typeof QUESTIONS)[number]['question_id'];

interface SnapOptions {
  /** Votes per option id; options not named have none. */
  counts?: Record<string, number>;
  /** Leader per question; questions not named have none. */
  leaders?: Partial<Record<QuestionId, string>>;
  status?: Snapshot['status'];
}

function snap(version: number, { counts = {}, leaders = {}, status = 'open' }: SnapOptions = {}): Snapshot {
  return {
    poll_id: 'poll1',
    version,
    status,
    results_hidden: false,
    total_voters: 0,
    leader: null,
    questions: QUESTIONS.map((q) => ({
      question_id: q.question_id,
      kind: q.kind,
      voters: 0,
      leader: leaders[q.question_id] ?? null,
      options: q.options.map((o) => ({ ...o, vote_count: counts[o.option_id] ?? 0 })),
    })),
  };
}

const ofType = <T extends ServerFrame['type']>(frames: ServerFrame[], type: T) =>
  frames.filter((f): f is Extract<ServerFrame, { type: T }> => f.type === type);

describe('snapshotFrames', () => {
  it('sends only the whole tally to a first-time subscriber (no previous snapshot)', () => {
    const next = snap(3, { counts: { p1: 2 }, leaders: { q1: 'p1' } });
    expect(snapshotFrames(undefined, next)).toEqual([{ type: 'vote_update', data: next }]);
  });

  it('always leads with vote_update carrying the new snapshot, even when nothing changed', () => {
    const prev = snap(1, { counts: { p1: 1 } });
    const next = snap(2, { counts: { p1: 1 } });
    const frames = snapshotFrames(prev, next);
    expect(frames).toEqual([{ type: 'vote_update', data: next }]);
    expect(frames[0]?.data).toBe(next);
  });

  it('sends place_vote for each changed place only', () => {
    const prev = snap(1, { counts: { p1: 1, p2: 4 }, leaders: { q1: 'p2' } });
    const next = snap(2, { counts: { p1: 2, p2: 4 }, leaders: { q1: 'p2' } });
    const frames = snapshotFrames(prev, next);
    expect(frames[0]?.type).toBe('vote_update');
    expect(ofType(frames, 'place_vote').map((f) => f.data)).toEqual([
      { poll_id: 'poll1', version: 2, place_id: 'p1', place_name: 'Pizza', vote_count: 2 },
    ]);
    expect(ofType(frames, 'menu_vote')).toEqual([]);
  });

  it('sends menu_vote, with its place, for each changed menu only; counts going down count as changes', () => {
    const prev = snap(1, { counts: { m1: 3, m2: 1 } });
    const next = snap(2, { counts: { m1: 3, m2: 0 } });
    const frames = snapshotFrames(prev, next);
    expect(ofType(frames, 'menu_vote').map((f) => f.data)).toEqual([
      {
        poll_id: 'poll1',
        version: 2,
        menu_id: 'm2',
        menu_name: 'Salmon roll',
        place_id: 'p2',
        vote_count: 0,
      },
    ]);
    expect(ofType(frames, 'place_vote')).toEqual([]);
  });

  it('sends no per-option message for a choice question (it has none in the protocol)', () => {
    const frames = snapshotFrames(snap(1), snap(2, { counts: { c1: 1 } }));
    expect(frames.map((f) => f.type)).toEqual(['vote_update']);
  });

  it('sends leader_changed with the new leader when a question’s leader moves', () => {
    const prev = snap(1, { counts: { p1: 2, p2: 2 }, leaders: { q1: 'p1' } });
    const next = snap(2, { counts: { p1: 2, p2: 3 }, leaders: { q1: 'p2' } });
    const frames = snapshotFrames(prev, next);
    expect(ofType(frames, 'leader_changed').map((f) => f.data)).toEqual([
      { poll_id: 'poll1', version: 2, question_id: 'q1', option_id: 'p2', label: 'Sushi' },
    ]);
  });

  it('sends leader_changed with no leader when a question loses it (a tie), and when one appears', () => {
    const lead = snap(1, { counts: { m1: 1 }, leaders: { q2: 'm1' } });
    const tie = snap(2, { counts: { m1: 1, m2: 1 } });
    expect(ofType(snapshotFrames(lead, tie), 'leader_changed').map((f) => f.data)).toEqual([
      { poll_id: 'poll1', version: 2, question_id: 'q2', option_id: null, label: null },
    ]);
    const again = snap(3, { counts: { m1: 1, m2: 2 }, leaders: { q2: 'm2' } });
    expect(ofType(snapshotFrames(tie, again), 'leader_changed').map((f) => f.data)).toEqual([
      { poll_id: 'poll1', version: 3, question_id: 'q2', option_id: 'm2', label: 'Salmon roll' },
    ]);
  });

  it('sends no leader_changed while the leader stays, however the counts move', () => {
    const prev = snap(1, { counts: { p1: 3, p2: 1, c1: 1 }, leaders: { q1: 'p1', q3: 'c1' } });
    const next = snap(2, { counts: { p1: 5, p2: 2, c1: 2 }, leaders: { q1: 'p1', q3: 'c1' } });
    const frames = snapshotFrames(prev, next);
    expect(ofType(frames, 'place_vote')).toHaveLength(2); // the counts did change...
    expect(ofType(frames, 'leader_changed')).toEqual([]); // ...the leaders did not
  });

  it('sends poll_closed with every top option per question (ties included) when the poll closes, last', () => {
    const prev = snap(4, { counts: { p1: 2, p2: 2, m1: 1 }, leaders: { q2: 'm1' } });
    const closed = snap(5, { counts: { p1: 2, p2: 2, m1: 1 }, leaders: { q2: 'm1' }, status: 'closed' });
    const frames = snapshotFrames(prev, closed);
    expect(frames.map((f) => f.type)).toEqual(['vote_update', 'poll_closed']);
    expect(frames[1]?.data).toEqual({
      poll_id: 'poll1',
      version: 5,
      winners: [
        { question_id: 'q1', option_id: 'p1', label: 'Pizza', vote_count: 2 },
        { question_id: 'q1', option_id: 'p2', label: 'Sushi', vote_count: 2 },
        { question_id: 'q2', option_id: 'm1', label: 'Margherita', vote_count: 1 },
      ],
    });
  });

  it('sends poll_closed only on the change from open to closed', () => {
    const closed = snap(5, { counts: { p1: 1 }, status: 'closed' });
    const stillClosed = snap(6, { counts: { p1: 1 }, status: 'closed' });
    expect(ofType(snapshotFrames(closed, stillClosed), 'poll_closed')).toEqual([]);
    expect(ofType(snapshotFrames(snap(1), snap(2, { counts: { p1: 1 } })), 'poll_closed')).toEqual([]);
  });

  it('orders a change: vote_update, then per question its option messages and leader, then poll_closed', () => {
    const prev = snap(1, { counts: { p1: 1 }, leaders: { q1: 'p1' } });
    const next = snap(2, {
      counts: { p1: 1, p2: 2, m2: 1 },
      leaders: { q1: 'p2', q2: 'm2' },
      status: 'closed',
    });
    expect(snapshotFrames(prev, next).map((f) => f.type)).toEqual([
      'vote_update',
      'place_vote',
      'leader_changed',
      'menu_vote',
      'leader_changed',
      'poll_closed',
    ]);
  });
});
