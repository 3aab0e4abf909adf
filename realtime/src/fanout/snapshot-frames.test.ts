// The messages a change between two snapshots becomes, on hand-built snapshots: a lunch poll (place, then menu)
// plus a plain choice question, so each kind of per-option message can be told apart. Every subscriber gets one
// vote_update (leader changes and presence folded in); only the original client gets per-option frames.
import type { ServerFrame, Snapshot } from '@livevote/core/protocol';
import { describe, expect, it } from 'vitest';
import { closedFrame, optionFrames, voteUpdateFrame } from './snapshot-frames.ts';

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

describe('voteUpdateFrame', () => {
  it('is the snapshot itself, untouched, when no leader moved and no presence is given', () => {
    const next = snap(2, { counts: { p1: 1 }, leaders: { q1: 'p1' } });
    const frame = voteUpdateFrame(snap(1, { leaders: { q1: 'p1' } }), next);
    expect(frame).toEqual({ type: 'vote_update', data: next });
    expect(frame.data).toBe(next);
    expect(voteUpdateFrame(undefined, next).data).toBe(next); // a first-time subscriber: no change to report
  });

  it('carries leader_changed with the new leader when a question’s leader moves', () => {
    const prev = snap(1, { counts: { p1: 2, p2: 2 }, leaders: { q1: 'p1' } });
    const next = snap(2, { counts: { p1: 2, p2: 3 }, leaders: { q1: 'p2' } });
    const { data } = voteUpdateFrame(prev, next);
    expect(data.leader_changed).toEqual([{ question_id: 'q1', option_id: 'p2', label: 'Sushi' }]);
    expect(data).toMatchObject({ poll_id: 'poll1', version: 2, questions: next.questions });
  });

  it('carries leader_changed with no leader when a question loses it (a tie), and when one appears', () => {
    const lead = snap(1, { counts: { m1: 1 }, leaders: { q2: 'm1' } });
    const tie = snap(2, { counts: { m1: 1, m2: 1 } });
    expect(voteUpdateFrame(lead, tie).data.leader_changed).toEqual([
      { question_id: 'q2', option_id: null, label: null },
    ]);
    const again = snap(3, { counts: { m1: 1, m2: 2 }, leaders: { q2: 'm2' } });
    expect(voteUpdateFrame(tie, again).data.leader_changed).toEqual([
      { question_id: 'q2', option_id: 'm2', label: 'Salmon roll' },
    ]);
  });

  it('lists every question whose leader moved, in question order, and none while the leaders stay', () => {
    const prev = snap(1, { counts: { p1: 1 }, leaders: { q1: 'p1' } });
    const next = snap(2, { counts: { p1: 1, p2: 2, m2: 1 }, leaders: { q1: 'p2', q2: 'm2' } });
    expect(voteUpdateFrame(prev, next).data.leader_changed?.map((c) => c.question_id)).toEqual(['q1', 'q2']);
    const same = snap(3, { counts: { p1: 5, p2: 2, c1: 2 }, leaders: { q1: 'p2', q2: 'm2' } });
    expect(voteUpdateFrame(next, same).data).not.toHaveProperty('leader_changed');
  });

  it('carries presence when given', () => {
    const next = snap(2);
    const { data } = voteUpdateFrame(snap(1), next, { online_count: 7, voting_count: 2 });
    expect(data.presence).toEqual({ online_count: 7, voting_count: 2 });
    expect(data).not.toHaveProperty('leader_changed');
  });
});

describe('optionFrames (the original client only)', () => {
  it('sends none to a first-time subscriber (no previous snapshot)', () => {
    expect(optionFrames(undefined, snap(3, { counts: { p1: 2 } }))).toEqual([]);
  });

  it('sends place_vote for each changed place only', () => {
    const prev = snap(1, { counts: { p1: 1, p2: 4 }, leaders: { q1: 'p2' } });
    const next = snap(2, { counts: { p1: 2, p2: 4 }, leaders: { q1: 'p2' } });
    const frames = optionFrames(prev, next);
    expect(ofType(frames, 'place_vote').map((f) => f.data)).toEqual([
      { poll_id: 'poll1', version: 2, place_id: 'p1', place_name: 'Pizza', vote_count: 2 },
    ]);
    expect(ofType(frames, 'menu_vote')).toEqual([]);
  });

  it('sends menu_vote, with its place, for each changed menu only; counts going down count as changes', () => {
    const prev = snap(1, { counts: { m1: 3, m2: 1 } });
    const next = snap(2, { counts: { m1: 3, m2: 0 } });
    const frames = optionFrames(prev, next);
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
    expect(optionFrames(snap(1), snap(2, { counts: { c1: 1 } }))).toEqual([]);
  });

  it('orders places before menus, as the questions are ordered', () => {
    const prev = snap(1, { counts: { p1: 1 } });
    const next = snap(2, { counts: { p1: 1, p2: 2, m2: 1 } });
    expect(optionFrames(prev, next).map((f) => f.type)).toEqual(['place_vote', 'menu_vote']);
  });
});

describe('closedFrame', () => {
  it('is poll_closed with every top option per question (ties included) when the poll closes', () => {
    const prev = snap(4, { counts: { p1: 2, p2: 2, m1: 1 }, leaders: { q2: 'm1' } });
    const closed = snap(5, { counts: { p1: 2, p2: 2, m1: 1 }, leaders: { q2: 'm1' }, status: 'closed' });
    expect(closedFrame(prev, closed)).toEqual({
      type: 'poll_closed',
      data: {
        poll_id: 'poll1',
        version: 5,
        winners: [
          { question_id: 'q1', option_id: 'p1', label: 'Pizza', vote_count: 2 },
          { question_id: 'q1', option_id: 'p2', label: 'Sushi', vote_count: 2 },
          { question_id: 'q2', option_id: 'm1', label: 'Margherita', vote_count: 1 },
        ],
      },
    });
  });

  it('is nothing except on the change from open to closed', () => {
    const closed = snap(5, { counts: { p1: 1 }, status: 'closed' });
    const stillClosed = snap(6, { counts: { p1: 1 }, status: 'closed' });
    expect(closedFrame(closed, stillClosed)).toBeUndefined();
    expect(closedFrame(snap(1), snap(2, { counts: { p1: 1 } }))).toBeUndefined();
    expect(closedFrame(undefined, closed)).toBeUndefined();
  });
});
