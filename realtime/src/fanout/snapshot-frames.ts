// What one broadcast says about the change between two snapshots of a poll. Every subscriber gets one `vote_update`
// (the whole state, so a client can never drift) that also carries, when they moved, the questions whose leader
// changed (`leader_changed`) and the audience (`presence`). The original lunch-vote client also reads
// `place_vote` / `menu_vote` per changed option, so only its connections get those; `poll_closed` follows the
// `vote_update` once, when the poll just closed.
import { winners } from '@livevote/core';
import type { LeaderChange, PresenceCounts, ServerFrame, Snapshot } from '@livevote/core/protocol';

type Frame<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** Questions whose leader differs between the two snapshots, in question order. */
export function leaderChanges(prev: Snapshot | undefined, next: Snapshot): LeaderChange[] {
  if (!prev) return [];
  const changes: LeaderChange[] = [];
  for (const q of next.questions) {
    const was = prev.questions.find((p) => p.question_id === q.question_id)?.leader ?? null;
    if (was === q.leader) continue;
    const label = q.options.find((o) => o.option_id === q.leader)?.label ?? null;
    changes.push({ question_id: q.question_id, option_id: q.leader, label });
  }
  return changes;
}

/** The one frame every subscriber gets: the snapshot, plus leader changes since `prev` and presence when given. */
export function voteUpdateFrame(
  prev: Snapshot | undefined,
  next: Snapshot,
  presence?: PresenceCounts,
): Frame<'vote_update'> {
  const changes = leaderChanges(prev, next);
  if (changes.length === 0 && !presence) return { type: 'vote_update', data: next };
  return {
    type: 'vote_update',
    data: {
      ...next,
      ...(changes.length > 0 ? { leader_changed: changes } : {}),
      ...(presence ? { presence } : {}),
    },
  };
}

/** The original client's per-option messages: `place_vote` / `menu_vote` for each option whose count moved. */
export function optionFrames(prev: Snapshot | undefined, next: Snapshot): ServerFrame[] {
  if (!prev) return [];
  const base = { poll_id: next.poll_id, version: next.version };
  const before = new Map(
    prev.questions.flatMap((q) => q.options.map((o) => [o.option_id, o.vote_count] as const)),
  );
  const frames: ServerFrame[] = [];
  for (const q of next.questions) {
    for (const o of q.options) {
      if (before.get(o.option_id) === o.vote_count) continue;
      if (q.kind === 'place') {
        frames.push({
          type: 'place_vote',
          data: { ...base, place_id: o.option_id, place_name: o.label, vote_count: o.vote_count },
        });
      } else if (q.kind === 'menu') {
        frames.push({
          type: 'menu_vote',
          data: {
            ...base,
            menu_id: o.option_id,
            menu_name: o.label,
            place_id: o.place_id ?? '',
            vote_count: o.vote_count,
          },
        });
      }
    }
  }
  return frames;
}

/** `poll_closed` with the winners when the poll went from open to closed between the two snapshots. */
export function closedFrame(prev: Snapshot | undefined, next: Snapshot): Frame<'poll_closed'> | undefined {
  if (prev?.status !== 'open' || next.status !== 'closed') return undefined;
  return {
    type: 'poll_closed',
    data: { poll_id: next.poll_id, version: next.version, winners: winners(next) },
  };
}
