// Casting and retracting: rules first (cheap, friendly), then one atomic store call, then the event path.
import { checkBallot } from '../domain/ballot-rules.ts';
import { fail, ok, REASON_MESSAGES, type Result, rateLimited } from '../domain/result.ts';
import { mayActIn, type Voter, voterKey } from '../domain/voter.ts';
import type { RateLimit } from '../ports/rate-limit.ts';
import type { BallotStore, CastCommand, CastOutcome } from '../ports/store.ts';
import type { Snapshot } from '../protocol/index.ts';
import type { EventPath } from './event-path.ts';
import type { Snapshots } from './snapshots.ts';

export interface VoteDeps {
  ballots: Pick<BallotStore, 'cast' | 'replayOf'>;
  snapshots: Snapshots;
  events: EventPath;
  now?: () => Date;
  /**
   * Caps how often one voter changes a ballot, whichever edge it comes from (web, Slack, Teams); absent: no cap.
   * Only calls that reach the store count: a refused rule costs the voter nothing.
   */
  voteLimit?: RateLimit;
}

export interface CastInput {
  pollId: string;
  questionId: string;
  optionIds: string[];
  voter: Voter;
  idempotencyKey?: string;
  /** One option, added to the voter's choices or taken off them (a multi-choice button): see CastCommand. */
  toggle?: boolean;
}

/**
 * The stages of one vote, in order; a caller that passes a `StageMark` hears each one end (Server-Timing on the
 * vote's answer, benchmarks). `commit` includes waiting for a free cast slot. Publishing on the bus and the local
 * fan-out follow without holding the answer up.
 */
export type VoteStage = 'rules' | 'commit' | 'snapshot';
export type StageMark = (stage: VoteStage) => void;

export interface CastResult {
  snapshot: Snapshot;
  /** The voter's choice in this question after the call (empty: no ballot). */
  optionIds: string[];
  changed: boolean;
  replayed: boolean;
}

export async function castVote(
  deps: VoteDeps,
  input: CastInput,
  mark?: StageMark,
): Promise<Result<CastResult>> {
  const now = deps.now?.() ?? new Date();
  let poll = await deps.snapshots.poll(input.pollId);
  if (!poll) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  if (!mayActIn(input.voter, poll.workspace)) return fail('wrong_workspace', REASON_MESSAGES.wrong_workspace);
  let checked = checkBallot(poll, input.questionId, input.optionIds, now);
  if (!checked.ok && (checked.reason === 'unknown_option' || checked.reason === 'poll_closed')) {
    // Another process may have added the option, or moved the close time (a lunch poll extended for its quorum),
    // since we cached the poll, and told only the processes watching it.
    poll = await deps.snapshots.reloadPoll(input.pollId);
    if (!poll) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
    checked = checkBallot(poll, input.questionId, input.optionIds, now);
  }
  if (!checked.ok) return checked;
  const command: CastCommand = {
    pollId: input.pollId,
    questionId: checked.value.questionId,
    voter: input.voter,
    optionIds: checked.value.optionIds,
    ...(input.idempotencyKey === undefined ? {} : { idempotencyKey: input.idempotencyKey }),
    ...(input.toggle ? { toggle: true } : {}),
  };
  if (deps.voteLimit) {
    const admitted = await deps.voteLimit.take(voterKey(input.voter));
    // A repeat of a call that already counted (its answer was lost) gets its first answer, limit or not.
    if (!admitted.ok) {
      const replay = input.idempotencyKey === undefined ? null : await deps.ballots.replayOf(command);
      if (!replay) return rateLimited(admitted.retryAfterMs, 'Too many vote changes in a short time');
      return answer(deps, input.pollId, replay, mark);
    }
  }
  mark?.('rules');
  const outcome = await deps.ballots.cast(command);
  mark?.('commit');
  return answer(deps, input.pollId, outcome, mark);
}

/** The store's outcome as the caller's answer, with the snapshot read after it (by the store, or now). */
async function answer(
  deps: VoteDeps,
  pollId: string,
  outcome: CastOutcome,
  mark?: StageMark,
): Promise<Result<CastResult>> {
  if (!outcome.ok) {
    if (outcome.reason === 'poll_closed') deps.snapshots.forget(pollId);
    return fail(outcome.reason, REASON_MESSAGES[outcome.reason]);
  }
  const snapshot = await deps.events.committed(pollId, {
    ...(mark ? { mark } : {}),
    ...(outcome.tally ? { tally: outcome.tally } : {}),
  });
  if (!snapshot) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  return ok({ snapshot, optionIds: outcome.optionIds, changed: outcome.changed, replayed: outcome.replayed });
}

/** Takes back the voter's ballot in one question, or in every question of the poll when none is named. */
export async function retractVote(
  deps: VoteDeps,
  input: Omit<CastInput, 'optionIds' | 'questionId'> & { questionId?: string },
): Promise<Result<CastResult>> {
  const questions =
    input.questionId !== undefined
      ? [input.questionId]
      : ((await deps.snapshots.poll(input.pollId))?.questions.map((q) => q.id) ?? []);
  if (questions.length === 0) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  // One key cannot stand for several ballots (its fingerprint names one question), so it applies to one only.
  const { idempotencyKey, ...rest } = input;
  const key = questions.length === 1 && idempotencyKey !== undefined ? { idempotencyKey } : {};
  let last: Result<CastResult> | undefined;
  for (const questionId of questions) {
    last = await castVote(deps, { ...rest, ...key, questionId, optionIds: [] });
    if (!last.ok) return last;
  }
  return last as Result<CastResult>;
}
