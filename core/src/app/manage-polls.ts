// Creating, closing and extending polls; each change is committed, then published like a vote.
import { randomUUID } from 'node:crypto';
import { buildPoll, duplicateLabels } from '../domain/poll-definition.ts';
import { newPollId } from '../domain/poll-id.ts';
import { fail, ok, REASON_MESSAGES, type Result } from '../domain/result.ts';
import type { Bus } from '../ports/bus.ts';
import type { Store } from '../ports/store.ts';
import type { CreatePollBody, Poll, Snapshot } from '../protocol/index.ts';
import type { Snapshots } from './snapshots.ts';

export interface PollDeps {
  store: Store;
  bus: Bus;
  snapshots: Snapshots;
  now?: () => Date;
}

export async function createPoll(
  deps: PollDeps,
  body: CreatePollBody,
  createdBy: string | null,
  id: string = newPollId(),
): Promise<Result<{ poll: Poll; snapshot: Snapshot }>> {
  const poll = buildPoll(body, id, deps.now?.() ?? new Date());
  const dups = duplicateLabels(poll);
  if (dups.length > 0) return fail('option_exists', `Options must differ: "${dups[0]}" is listed twice.`);
  await deps.store.createPoll(poll, createdBy);
  const snapshot = await deps.snapshots.afterCommit(id);
  if (!snapshot) throw new Error(`poll ${id} vanished right after it was created`);
  return ok({ poll, snapshot });
}

export async function closePoll(
  deps: PollDeps,
  id: string,
  /** Who closed it, for the audit log (`admin`, a creator's voter key). */
  closedBy: string | null = null,
): Promise<Result<{ snapshot: Snapshot; changed: boolean }>> {
  const r = await deps.store.closePoll(id, closedBy);
  if (!r.ok) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  return ok({ snapshot: await publishChange(deps, id), changed: r.changed });
}

export async function addOption(
  deps: PollDeps,
  pollId: string,
  questionId: string,
  label: string,
  addedBy: string,
): Promise<Result<{ optionId: string; snapshot: Snapshot }>> {
  const r = await deps.store.addOption(pollId, questionId, label, addedBy);
  if (!r.ok) return fail(r.reason, REASON_MESSAGES[r.reason]);
  return ok({ optionId: r.optionId, snapshot: await publishChange(deps, pollId) });
}

/** Closes polls whose close time passed, so their version moves and every screen hears about it. */
export async function closeDuePolls(deps: PollDeps): Promise<string[]> {
  const ids = await deps.store.closeDuePolls();
  for (const id of ids) await publishChange(deps, id);
  return ids;
}

async function publishChange(deps: PollDeps, id: string): Promise<Snapshot> {
  deps.snapshots.forget(id);
  await deps.bus.publish({ type: 'poll_changed', poll_id: id });
  const snapshot = await deps.snapshots.afterCommit(id);
  if (!snapshot) throw new Error(`poll ${id} vanished after a change`);
  return snapshot;
}

export const newRequestId = (): string => randomUUID();
