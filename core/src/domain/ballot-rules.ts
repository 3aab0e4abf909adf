// The rules a ballot must pass before it reaches the store (the store enforces the racy ones again, atomically).
import type { Poll } from '../protocol/index.ts';
import { effectiveStatus } from './poll-definition.ts';
import { fail, ok, type Result } from './result.ts';

export function checkBallot(
  poll: Poll,
  questionId: string,
  optionIds: readonly string[],
  now: Date,
): Result<{ questionId: string; optionIds: string[] }> {
  if (effectiveStatus(poll, now) === 'closed') return fail('poll_closed', 'This poll is closed.');
  const question = poll.questions.find((q) => q.id === questionId);
  if (!question) return fail('unknown_question', `Poll ${poll.id} has no question "${questionId}".`);
  if (new Set(optionIds).size !== optionIds.length)
    return fail('duplicate_option', 'An option is listed twice.');
  const known = new Set(question.options.map((o) => o.id));
  const unknown = optionIds.find((id) => !known.has(id));
  if (unknown !== undefined)
    return fail('unknown_option', `Question "${questionId}" has no option "${unknown}".`);
  if (optionIds.length > question.max_choices) {
    return fail(
      'too_many_choices',
      `You can choose at most ${question.max_choices} option${question.max_choices === 1 ? '' : 's'} here.`,
    );
  }
  // Sorted so that the same choice in another order is the same ballot (no-op detection, idempotency fingerprints).
  return ok({ questionId, optionIds: [...optionIds].sort() });
}
