// Creating, closing and extending polls; each change is committed, then goes down the event path like a vote.
import { buildPoll, duplicateLabels } from '../domain/poll-definition.ts';
import { newPollId } from '../domain/poll-id.ts';
import { fail, ok, REASON_MESSAGES, type Result } from '../domain/result.ts';
import type { CatalogStore } from '../ports/lunch-store.ts';
import type { PollStore } from '../ports/store.ts';
import { type CreatePollBody, type Poll, type Snapshot, WEB_WORKSPACE } from '../protocol/index.ts';
import { placesForPoll } from './catalog.ts';
import type { EventPath } from './event-path.ts';
import { type SettleDeps, settlePoll } from './settle-poll.ts';

export interface PollDeps {
  polls: PollStore;
  events: EventPath;
  now?: () => Date;
  /** The workspace's catalog: a lunch poll without typed-in places is made from it. */
  catalog?: CatalogStore;
  /** The lunch rules' store: a lunch poll closed by hand is decided fairly (quorum, tie-breaks) and recorded. */
  lunch?: SettleDeps['lunch'];
}

/**
 * Who is acting on a poll. `admin` holds the admin token; `system` is the server itself (a close time passed);
 * a voter acts as themselves (`key` from voterKey) and may be an admin of the poll's workspace.
 */
export type Actor =
  | { kind: 'admin' }
  | { kind: 'system'; key: 'schedule' | 'seed' }
  /** `adminOf`: the workspace this person administers; they may manage that workspace's polls, and only those. */
  | { kind: 'voter'; key: string; adminOf?: string };

const actorKey = (a: Actor): string => (a.kind === 'admin' ? 'admin' : a.key);

export async function createPoll(
  deps: Pick<PollDeps, 'polls' | 'events' | 'now' | 'catalog'>,
  body: CreatePollBody,
  createdBy: Actor,
  id: string = newPollId(),
): Promise<Result<{ poll: Poll; snapshot: Snapshot }>> {
  if (body.template === 'lunch' && body.places === undefined) {
    if (!deps.catalog) return fail('too_few_places', 'This server has no places catalog.');
    const places = await placesForPoll(
      { catalog: deps.catalog },
      body.workspace ?? WEB_WORKSPACE,
      body.place_ids,
    );
    if (!places.ok) return places;
    const { place_ids: _ids, ...rest } = body;
    body = { ...rest, places: places.value };
  }
  const now = deps.now?.() ?? new Date();
  // A poll born closed would be a surprise to whoever created it (and cannot be opened again): refuse it.
  if (body.closes_at && Date.parse(body.closes_at) <= now.getTime())
    return fail('closes_in_past', REASON_MESSAGES.closes_in_past);
  const poll = buildPoll(body, id, now);
  const dups = duplicateLabels(poll);
  if (dups.length > 0) return fail('option_exists', `Options must differ: "${dups[0]}" is listed twice.`);
  await deps.polls.createPoll(poll, actorKey(createdBy));
  const snapshot = await deps.events.committed(id);
  if (!snapshot) throw new Error(`poll ${id} vanished right after it was created`);
  return ok({ poll, snapshot });
}

/** Closes a poll for an actor allowed to: the admin, the server, the poll's creator or a workspace admin. */
export async function closePoll(
  deps: PollDeps,
  id: string,
  actor: Actor,
): Promise<Result<{ snapshot: Snapshot; changed: boolean }>> {
  const refused = await refusedFor(deps, id, actor, 'close it');
  if (refused) return refused;
  if (deps.lunch && (await deps.polls.getPoll(id))?.template === 'lunch') {
    const settled = await settlePoll({ ...deps, lunch: deps.lunch }, id, {
      trigger: 'manual',
      actor: actorKey(actor),
      ...(deps.now ? { now: deps.now() } : {}),
    });
    if (!settled.ok) return settled;
    const snapshot = settled.value.snapshot ?? (await deps.events.committed(id));
    if (!snapshot) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
    return ok({ snapshot, changed: settled.value.closed });
  }
  const r = await deps.polls.closePoll(id, actorKey(actor));
  if (!r.ok) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  return ok({ snapshot: await changed(deps, id), changed: r.changed });
}

/** Why `actor` may not manage the poll (only its creator, a workspace admin, the admin or the server may), or null. */
async function refusedFor(
  deps: PollDeps,
  id: string,
  actor: Actor,
  what: string,
): Promise<Result<never> | null> {
  if (actor.kind !== 'voter') return null;
  const creator = await deps.polls.pollCreator(id);
  if (creator === null) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  if (actor.adminOf !== undefined && (await deps.polls.getPoll(id))?.workspace === actor.adminOf) return null;
  if (creator !== actor.key)
    return fail('not_allowed', `Only the person who created this poll, or an admin, can ${what}.`);
  return null;
}

/** Shows a poll's hidden results now, for the admin or the poll's creator (closing shows them anyway). */
export async function revealResults(
  deps: PollDeps,
  id: string,
  actor: Actor,
): Promise<Result<{ snapshot: Snapshot; changed: boolean }>> {
  const refused = await refusedFor(deps, id, actor, 'reveal its results');
  if (refused) return refused;
  const r = await deps.polls.revealResults(id, actorKey(actor));
  if (!r.ok) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  return ok({ snapshot: await changed(deps, id), changed: r.changed });
}

export async function addOption(
  deps: PollDeps,
  pollId: string,
  questionId: string,
  label: string,
  addedBy: string,
): Promise<Result<{ optionId: string; snapshot: Snapshot }>> {
  const r = await deps.polls.addOption(pollId, questionId, label, addedBy);
  if (!r.ok) return fail(r.reason, REASON_MESSAGES[r.reason]);
  return ok({ optionId: r.optionId, snapshot: await changed(deps, pollId) });
}

/** Closes polls whose close time passed, so their version moves and every screen hears about it. */
export async function closeDuePolls(deps: PollDeps): Promise<string[]> {
  const ids = await deps.polls.closeDuePolls();
  for (const id of ids) await changed(deps, id);
  return ids;
}

/** One event for a change of the definition: receivers drop their cached copy and take the new snapshot. */
async function changed(deps: PollDeps, id: string): Promise<Snapshot> {
  const snapshot = await deps.events.committed(id, { definitionChanged: true });
  if (!snapshot) throw new Error(`poll ${id} vanished after a change`);
  return snapshot;
}
