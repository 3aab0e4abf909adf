// What a tap means and what the screen shows before the server answers.
import type { PollQuestion, Snapshot } from '@livevote/core/protocol';

export type Tap = { ok: true; next: string[] } | { ok: false; reason: 'limit' };

/** Single choice: tap selects, tapping the selected one retracts. Multi: toggles, up to max_choices. */
export function applyTap(question: Pick<PollQuestion, 'max_choices'>, mine: string[], optionId: string): Tap {
  if (mine.includes(optionId)) return { ok: true, next: mine.filter((o) => o !== optionId) };
  if (question.max_choices === 1) return { ok: true, next: [optionId] };
  if (mine.length >= question.max_choices) return { ok: false, reason: 'limit' };
  return { ok: true, next: [...mine, optionId].sort() };
}

/**
 * The dishes a lunch voter keeps when their places change: only those of a place still chosen. The page shows the
 * dishes of the chosen places only, so one left behind would count (turnout, quorum, the dish's tally) out of sight.
 */
export function dishesKept(
  menu: Pick<PollQuestion, 'options'>,
  dishes: string[],
  places: string[],
): string[] {
  const placeOf = new Map(menu.options.map((o) => [o.id, o.place_id]));
  return dishes.filter((d) => {
    const place = placeOf.get(d);
    return place !== undefined && places.includes(place);
  });
}

/** The snapshot with a pending change applied (-1 for what I leave, +1 for what I pick), until the server confirms. */
export function withPending(
  snapshot: Snapshot,
  questionId: string,
  before: string[],
  after: string[],
): Snapshot {
  const delta = new Map<string, number>();
  for (const o of before) delta.set(o, (delta.get(o) ?? 0) - 1);
  for (const o of after) delta.set(o, (delta.get(o) ?? 0) + 1);
  return {
    ...snapshot,
    questions: snapshot.questions.map((q) =>
      q.question_id !== questionId
        ? q
        : {
            ...q,
            options: q.options.map((o) => ({
              ...o,
              vote_count: Math.max(0, o.vote_count + (delta.get(o.option_id) ?? 0)),
            })),
          },
    ),
  };
}
