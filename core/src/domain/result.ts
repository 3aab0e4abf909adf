// Expected failures are values: every reason a user can cause, in one list the edges map to statuses and text.

export const REASONS = [
  'unknown_poll',
  'unknown_question',
  'unknown_option',
  'poll_closed',
  'too_many_choices',
  'duplicate_option',
  'idempotency_key_reused',
  'adding_options_disabled',
  'option_exists',
  'not_allowed',
  'rate_limited',
  'unknown_place',
  'place_exists',
  'too_few_places',
  'invalid_csv',
  'unknown_schedule',
  'not_decided',
  'closes_in_past',
  'wrong_workspace',
] as const;
export type Reason = (typeof REASONS)[number];

export type Ok<T> = { ok: true; value: T };
export type Fail<R extends string = Reason> = {
  ok: false;
  reason: R;
  message: string;
  /** rate_limited: how long until the same call may succeed. */
  retryAfterMs?: number;
};
export type Result<T, R extends string = Reason> = Ok<T> | Fail<R>;

export const ok = <T>(value: T): Ok<T> => ({ ok: true, value });
export const fail = <R extends string>(reason: R, message: string): Fail<R> => ({
  ok: false,
  reason,
  message,
});

/** Default wording per reason; edges may say it in their own voice (Slack, Teams) but mean the same. */
export const REASON_MESSAGES: Record<Reason, string> = {
  unknown_poll: 'No such poll.',
  unknown_question: 'This poll has no such question.',
  unknown_option: 'This question has no such option.',
  poll_closed: 'This poll is closed.',
  too_many_choices: 'Too many choices for this question.',
  duplicate_option: 'An option is listed twice.',
  idempotency_key_reused: 'This Idempotency-Key was already used for a different vote.',
  adding_options_disabled: 'Voters cannot add options to this poll.',
  option_exists: 'An option with this name already exists.',
  not_allowed: 'Only the person who created this poll, or an admin, can do that.',
  rate_limited: 'Too many vote changes in a short time; try again in a moment.',
  unknown_place: 'No such place in this workspace’s catalog.',
  place_exists: 'A place with this name is already in the catalog.',
  too_few_places: 'A lunch poll needs at least two active places.',
  invalid_csv: 'The CSV could not be read.',
  unknown_schedule: 'No such schedule.',
  not_decided: 'This poll has not decided a place yet.',
  closes_in_past: 'The close time has already passed: pick a time in the future, or leave it out.',
  wrong_workspace: 'This voter link belongs to another workspace: open the poll from its own Slack or Teams.',
};

/** Whole seconds to wait, at least 1: what Retry-After says and what a person is told. */
export const retryAfterSeconds = (ms: number): number => Math.max(1, Math.ceil(ms / 1000));

/** A refusal by a rate limit, with how long until the action may go again. */
export function rateLimited(
  retryAfterMs: number,
  what: string,
): Fail<'rate_limited'> & { retryAfterMs: number } {
  return {
    ...fail('rate_limited', `${what}; try again in ${retryAfterSeconds(retryAfterMs)} s.`),
    retryAfterMs,
  };
}
