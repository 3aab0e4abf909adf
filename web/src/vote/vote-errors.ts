// What a voter reads when a vote fails: one sentence in their language per kind of failure, never the server's
// English message or a validator's text.
import { ApiError } from '../api.ts';
import type { MessageKey } from '../i18n/messages.ts';

export type VoteErrorKind = 'network' | 'closed' | 'limit' | 'rate' | 'busy' | 'gone' | 'link' | 'other';

export function voteErrorKind(e: unknown): VoteErrorKind {
  if (!(e instanceof ApiError)) return 'other';
  if (e.status === 0) return 'network';
  if (e.code === 'poll_closed') return 'closed';
  if (e.code === 'too_many_choices') return 'limit';
  if (e.code === 'rate_limited' || e.status === 429) return 'rate';
  if (e.status === 503 || e.status === 502 || e.status === 504) return 'busy';
  if (e.code === 'unknown_option' || e.code === 'unknown_question') return 'gone';
  if (e.status === 401 || e.status === 403) return 'link';
  return 'other';
}

export const VOTE_ERROR_TEXT: Record<Exclude<VoteErrorKind, 'limit'>, MessageKey> = {
  network: 'errNetwork',
  closed: 'pollClosed',
  rate: 'errRateLimited',
  busy: 'errBusy',
  gone: 'errGone',
  link: 'errLink',
  other: 'errUnknown',
};
