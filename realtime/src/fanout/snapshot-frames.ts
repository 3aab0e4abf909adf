// What changed between two snapshots of a poll, as the wire protocol lists them: always `vote_update`
// (the whole state, so a client can never drift), then `place_vote` / `menu_vote` per changed option,
// `leader_changed` per question whose leader moved, and `poll_closed` when the poll just closed.
import { winners } from '@livevote/core';
import type { ServerFrame, Snapshot } from '@livevote/core/protocol';

export function snapshotFrames(prev: Snapshot | undefined, next: Snapshot): ServerFrame[] {
  const frames: ServerFrame[] = [{ type: 'vote_update', data: next }];
  if (!prev) return frames;
  const base = { poll_id: next.poll_id, version: next.version };
  const before = new Map(
    prev.questions.flatMap((q) => q.options.map((o) => [o.option_id, o.vote_count] as const)),
  );
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
    const was = prev.questions.find((p) => p.question_id === q.question_id)?.leader ?? null;
    if (was !== q.leader) {
      const label = q.options.find((o) => o.option_id === q.leader)?.label ?? null;
      frames.push({
        type: 'leader_changed',
        data: { ...base, question_id: q.question_id, option_id: q.leader, label },
      });
    }
  }
  if (prev.status === 'open' && next.status === 'closed') {
    frames.push({ type: 'poll_closed', data: { ...base, winners: winners(next) } });
  }
  return frames;
}
