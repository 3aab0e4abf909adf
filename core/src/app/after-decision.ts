// After a lunch poll decided: who is in ("I'm in" headcount) and an optional menu round, a short second poll with the
// winning place's menus for a group order.
import { createHash } from 'node:crypto';
import { fail, ok, REASON_MESSAGES, type Result } from '../domain/result.ts';
import type { CatalogStore, HeadcountStore } from '../ports/lunch-store.ts';
import type { PollStore } from '../ports/store.ts';
import type { Poll, Snapshot } from '../protocol/index.ts';
import type { EventPath } from './event-path.ts';
import { createPoll } from './manage-polls.ts';

export interface HeadcountDeps {
  polls: Pick<PollStore, 'getPoll'>;
  lunch: HeadcountStore;
}

/** Joins (or leaves) the headcount of a decided poll; returns the new count. */
export async function setHeadcount(
  deps: HeadcountDeps,
  pollId: string,
  voterKey: string,
  join: boolean,
): Promise<Result<{ count: number }>> {
  const poll = await deps.polls.getPoll(pollId);
  if (!poll) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  if (poll.decision?.outcome !== 'decided') return fail('not_decided', REASON_MESSAGES.not_decided);
  await deps.lunch.joinHeadcount(pollId, voterKey, join);
  return ok({ count: (await deps.lunch.headcount(pollId)).count });
}

const ALPHABET = 'abcdefghijkmnpqrstuvwxyz23456789';
/** The menu round's id follows from its poll's: asking twice gives the same round. */
export function menuRoundId(pollId: string): string {
  const digest = createHash('sha256').update(`menu-round:${pollId}`).digest();
  let id = '';
  for (let i = 0; i < 12; i++) id += ALPHABET[(digest[i] ?? 0) % ALPHABET.length];
  return id;
}

export interface MenuRoundDeps {
  polls: PollStore;
  events: EventPath;
  catalog: CatalogStore;
  now?: () => Date;
}

/**
 * Opens the menu round of a decided lunch poll: the winning place's menus (from the catalog, else the poll's own),
 * closing after `minutes`. A second call returns the same round.
 */
export async function startMenuRound(
  deps: MenuRoundDeps,
  pollId: string,
  minutes = 10,
): Promise<Result<{ poll: Poll; snapshot: Snapshot | null; created: boolean }>> {
  const poll = await deps.polls.getPoll(pollId);
  if (!poll) return fail('unknown_poll', REASON_MESSAGES.unknown_poll);
  const d = poll.decision;
  if (d?.outcome !== 'decided' || !d.option_id) return fail('not_decided', REASON_MESSAGES.not_decided);
  const id = menuRoundId(pollId);
  const existing = await deps.polls.getPoll(id);
  if (existing) return ok({ poll: existing, snapshot: await deps.events.refresh(id), created: false });
  const place = (await deps.catalog.places(poll.workspace)).find((p) => p.id === d.option_id);
  const menus =
    place?.menus.map((m) => m.name) ??
    (poll.questions.find((q) => q.kind === 'menu')?.options ?? [])
      .filter((o) => o.place_id === d.option_id)
      .map((o) => o.label);
  if (menus.length < 2)
    return fail('too_few_places', `${d.label ?? 'The winning place'} has fewer than two menus.`);
  const now = deps.now?.() ?? new Date();
  const r = await createPoll(
    deps,
    {
      template: 'choice',
      workspace: poll.workspace,
      title: `${d.label ?? ''}: what shall we order?`.slice(0, 120),
      options: menus.slice(0, 100),
      closes_at: new Date(now.getTime() + minutes * 60_000).toISOString(),
      settings: { anonymous: poll.settings.anonymous },
    },
    { kind: 'system', key: 'schedule' },
    id,
  );
  if (!r.ok) return r;
  return ok({ poll: r.value.poll, snapshot: r.value.snapshot, created: true });
}
