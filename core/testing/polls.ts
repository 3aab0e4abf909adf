// Use-case shortcuts for tests that need a poll and some votes on a Core.
import { castVote } from '../src/app/cast-vote.ts';
import type { Core } from '../src/app/core.ts';
import { createPoll } from '../src/app/manage-polls.ts';
import { buildPoll } from '../src/domain/poll-definition.ts';
import { buildSnapshot } from '../src/domain/tally.ts';
import { webVoter } from '../src/domain/voter.ts';
import type { Snapshot } from '../src/protocol/index.ts';

/** A two-option choice poll (question q1, options o1 and o2), created by the admin; returns its id. */
export async function choicePoll(core: Pick<Core, 'polls' | 'events'>): Promise<string> {
  const r = await createPoll(
    core,
    { template: 'choice', title: 't', options: ['a', 'b'] },
    { kind: 'admin' },
  );
  if (!r.ok) throw new Error(r.message);
  return r.value.poll.id;
}

/** Employee `emp` votes for `option` in q1. */
export const webVote = (core: Core, pollId: string, emp: number, option = 'o1') =>
  castVote(core, { pollId, questionId: 'q1', optionIds: [option], voter: webVoter(String(emp)) });

/** The sentence of tiedLunch's "no decision". */
export const NO_DECISION_TEXT = 'No decision: 2 of the 5 voters needed took part.';

/**
 * A closed two-place lunch poll tied 1–1 (Pho p1, Ramen p2), as no rules decided it, as the lunch rules broke the
 * tie (Ramen), and as they found no decision (a quorum of 5 missed): what every surface's closed view must tell apart.
 */
export function tiedLunch() {
  const poll = buildPoll(
    {
      template: 'lunch',
      title: 'Lunch',
      places: [
        { name: 'Pho', menus: [] },
        { name: 'Ramen', menus: [] },
      ],
    },
    'lun',
    new Date(),
  );
  const closed = buildSnapshot(poll, {
    version: 2,
    status: 'closed',
    totalVoters: 2,
    counts: { p1: 1, p2: 1 },
  });
  const base = { reason: 'random' as const, vote_count: 1, total_voters: 2, text: 'Winner: Ramen (drawn).' };
  const brokenTie: Snapshot = {
    ...closed,
    decision: { ...base, outcome: 'decided', option_id: 'p2', label: 'Ramen' },
  };
  const noDecision: Snapshot = {
    ...closed,
    decision: {
      ...base,
      outcome: 'no_decision',
      reason: 'quorum_not_met',
      option_id: null,
      label: null,
      text: NO_DECISION_TEXT,
    },
  };
  return { poll, closed, brokenTie, noDecision };
}
