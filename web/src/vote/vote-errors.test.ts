import { describe, expect, it } from 'vitest';
import { ApiError } from '../api.ts';
import { messages } from '../i18n/messages.ts';
import { VOTE_ERROR_TEXT, voteErrorKind } from './vote-errors.ts';

describe('vote errors for people', () => {
  it('turns each failure into a kind with a Korean and an English sentence, never the server text', () => {
    const cases: [unknown, string][] = [
      [new ApiError(0, 'network', 'No connection to the server.'), 'network'],
      [new ApiError(409, 'poll_closed', 'Poll is closed.'), 'closed'],
      [new ApiError(429, 'rate_limited', 'Slow down.'), 'rate'],
      [new ApiError(503, 'store_unavailable', 'Try again.'), 'busy'],
      [new ApiError(422, 'unknown_option', 'No such option.'), 'gone'],
      [new ApiError(401, 'invalid_token', 'Token expired.'), 'link'],
      [new ApiError(400, 'invalid_body', 'option_ids: Too small'), 'other'],
      [new Error('boom'), 'other'],
    ];
    for (const [e, kind] of cases) expect(voteErrorKind(e)).toBe(kind);
    for (const key of Object.values(VOTE_ERROR_TEXT)) {
      expect(messages.ko[key]).toMatch(/[가-힣]/);
      expect(messages.en[key]).not.toMatch(/[가-힣]/);
    }
  });
});
