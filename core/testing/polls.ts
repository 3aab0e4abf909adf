// Use-case shortcuts for tests that need a poll and some votes on a Core.
import { castVote } from '../src/app/cast-vote.ts';
import type { Core } from '../src/app/core.ts';
import { createPoll } from '../src/app/manage-polls.ts';
import { webVoter } from '../src/domain/voter.ts';

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
