// Casting and retracting: rules first (cheap, friendly), then one atomic store call, then a fresh snapshot published.
import { checkBallot } from '../domain/ballot-rules.ts';
import { type Fail, fail, ok, REASON_MESSAGES, type Result } from '../domain/result.ts';
import type { Voter } from '../domain/voter.ts';
import type { Store } from '../ports/store.ts';
import type { Snapshot } from '../protocol/index.ts';
import type { Snapshots } from './snapshots.ts';

export interface VoteDeps {
  store: Store;
  snapshots: Snapshots;
  now?: () => Date;
}

export interface CastInput {
  pollId: string;
  questionId: string;
  optionIds: string[];
  voter: Voter;
  idempotencyKey?: string;
}

export interface CastResult {
  snapshot: Snapshot;
  /** The voter's choice in this question after the call (empty: no ballot). */
  optionIds: string[];
  changed: boolean;
  replayed: boolean;
}

export async function castVote(deps: VoteDeps, input: CastInput): Promise<Result<CastResult>> {
  const now = deps.now?.() ?? new Date();
  let poll = await deps.snapshots.poll(input.pollId);
  if (!poll) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  let checked = checkBallot(poll, input.questionId, input.optionIds, now);
  if (!checked.ok && checked.reason === 'unknown_option') {
    // Another instance may have added the option since we cached the poll.
    poll = await deps.snapshots.reloadPoll(input.pollId);
    if (!poll) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
    checked = checkBallot(poll, input.questionId, input.optionIds, now);
  }
  if (!checked.ok) return checked;

  const outcome = await deps.store.cast({
    pollId: input.pollId,
    questionId: checked.value.questionId,
    voter: input.voter,
    optionIds: checked.value.optionIds,
    ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
  });
  if (!outcome.ok) {
    if (outcome.reason === 'poll_closed') deps.snapshots.forget(input.pollId);
    return fail(outcome.reason, REASON_MESSAGES[outcome.reason]);
  }
  const snapshot = await deps.snapshots.afterCommit(input.pollId);
  if (!snapshot) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  return ok({ snapshot, optionIds: outcome.optionIds, changed: outcome.changed, replayed: outcome.replayed });
}

export const retractVote = (
  deps: VoteDeps,
  input: Omit<CastInput, 'optionIds'>,
): Promise<Result<CastResult>> => castVote(deps, { ...input, optionIds: [] });

export type CastFailure = Fail;
