// What a Slack Web API failure means for a message we keep current: try again (later), or never again. Slack answers
// most errors with HTTP 200 and `{ok: false, error}`; the SDK throws them as platform errors. The budgets are how
// Slack limits: per workspace and method.
import type { ChatMessage } from '@livevote/core';
import type { Budget, CallKind, Outcome } from '../delivery/contract.ts';

/** Errors that say the message (or our access to it) is gone: retrying cannot help. */
export const PERMANENT_SLACK_ERRORS = new Set([
  'channel_not_found',
  'is_archived',
  'not_in_channel',
  'message_not_found',
  'cant_update_message',
  'edit_window_closed',
  'invalid_auth',
  'not_authed',
  'account_inactive',
  'token_revoked',
  'token_expired',
  'missing_scope',
  'no_permission',
  'team_access_not_granted',
  'ekm_access_denied',
  'restricted_action',
  'invalid_blocks',
  'msg_too_long',
]);

/** Errors Slack itself calls transient. */
const TRANSIENT_SLACK_ERRORS = new Set([
  'ratelimited',
  'internal_error',
  'fatal_error',
  'service_unavailable',
  'request_timeout',
]);

interface SlackSdkError {
  code?: string;
  retryAfter?: number;
  statusCode?: number;
  data?: { error?: string };
  message?: string;
}

export function classifySlackError(err: unknown): Exclude<Outcome, { ok: true }> {
  const e = (err ?? {}) as SlackSdkError;
  if (e.code === 'slack_webapi_rate_limited_error')
    return {
      ok: false,
      kind: 'retry',
      reason: 'ratelimited',
      rateLimited: true,
      retryAfterMs: (e.retryAfter ?? 1) * 1000,
    };
  if (e.code === 'slack_webapi_platform_error') {
    const error = e.data?.error ?? 'unknown_error';
    if (TRANSIENT_SLACK_ERRORS.has(error)) return { ok: false, kind: 'retry', reason: error };
    // Anything else Slack refused is about this request: sending it again gets the same answer.
    return { ok: false, kind: 'permanent', reason: error };
  }
  if (e.code === 'slack_webapi_http_error') {
    const status = e.statusCode ?? 0;
    if (status === 429 || status >= 500 || status === 408)
      return { ok: false, kind: 'retry', reason: `http ${status}`, rateLimited: status === 429 };
    if (status === 404 || status === 410) return { ok: false, kind: 'permanent', reason: `http ${status}` };
    return { ok: false, kind: 'retry', reason: `http ${status}` };
  }
  // slack_webapi_request_error (network, timeout) and anything unexpected.
  return { ok: false, kind: 'retry', reason: e.message ?? String(err) };
}

/**
 * Tier 3 (chat.update): about 50 a minute per workspace. Counted in fixed windows of 15 s with 10 each, which keeps
 * ANY 60 s span at or under 50 (it overlaps at most five windows); one 60 s window of 50 would let 100 through
 * across a window boundary. Replies (chat.postMessage) are "special": about one a second per channel.
 */
export function slackBudgets(m: ChatMessage, call: CallKind): Budget[] {
  const workspace = String(m.meta.team ?? m.meta.workspace ?? 'unknown');
  if (call === 'update') return [{ key: `slack:${workspace}:chat.update`, points: 10, durationMs: 15_000 }];
  return [{ key: `slack:${workspace}:${m.channel}:chat.postMessage`, points: 1, durationMs: 1_000 }];
}
