// The HTTP edge's one table from failure reasons to statuses, and the one error body shape: {error: {code, message}}.
import { isStoreUnavailable, type Reason, retryAfterSeconds } from '@livevote/core';
import type { ErrorRequestHandler, Response } from 'express';

const REASON_STATUS: Record<Reason, number> = {
  unknown_poll: 404,
  unknown_question: 422,
  unknown_option: 422,
  poll_closed: 409,
  too_many_choices: 422,
  duplicate_option: 422,
  idempotency_key_reused: 422,
  adding_options_disabled: 403,
  option_exists: 409,
  not_allowed: 403,
  rate_limited: 429,
  unknown_place: 404,
  place_exists: 409,
  too_few_places: 422,
  invalid_csv: 400,
  unknown_schedule: 404,
  not_decided: 409,
  closes_in_past: 422,
  wrong_workspace: 403,
};

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}

export function sendError(res: Response, status: number, code: string, message: string): void {
  res.status(status).json(errorBody(code, message));
}

/** A refusal's answer; its Retry-After in whole seconds, rounded up: a client that waits that long is let through. */
export function failureReply(f: { reason: Reason; message: string; retryAfterMs?: number }): Reply {
  return {
    status: REASON_STATUS[f.reason],
    headers: f.retryAfterMs === undefined ? {} : { 'Retry-After': String(retryAfterSeconds(f.retryAfterMs)) },
    body: errorBody(f.reason, f.message),
  };
}

export function sendFailure(
  res: Response,
  f: { reason: Reason; message: string; retryAfterMs?: number },
): void {
  sendReply(res, failureReply(f));
}

interface BodyParserError {
  type?: string;
  status?: number;
}

/** Seconds a client should wait before trying again while the store cannot be reached. */
export const STORE_RETRY_AFTER_S = 5;

export const STORE_UNAVAILABLE_MESSAGE =
  'The vote store cannot be reached right now. Try again in a few seconds (a vote repeated with the same ' +
  'Idempotency-Key counts once).';

/** A whole answer, for the paths that answer outside Express (the vote fast path). */
export interface Reply {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Sends a whole answer through Express. */
export function sendReply(res: Response, r: Reply): void {
  res.status(r.status).set(r.headers).json(r.body);
}

export const errorBody = (code: string, message: string) => ({ error: { code, message } });

/**
 * What a failed request is answered: known errors keep their status; body-parser errors get codes; an unreachable
 * store is a 503 with Retry-After, reported to `storeErrors` (which logs an outage at most once a second); anything
 * else is a 500 we log. `what` names the request in those reports (method and path, never the query string).
 */
export function errorReply(
  err: unknown,
  what: string,
  log: (err: unknown) => void,
  storeErrors: { report(err: unknown, what: string): boolean },
): Reply {
  const reply = (status: number, code: string, message: string, headers: Record<string, string> = {}) => ({
    status,
    headers,
    body: errorBody(code, message),
  });
  if (isStoreUnavailable(err)) {
    storeErrors.report(err, what);
    return reply(503, 'store_unavailable', STORE_UNAVAILABLE_MESSAGE, {
      'Retry-After': String(STORE_RETRY_AFTER_S),
    });
  }
  if (err instanceof HttpError) return reply(err.status, err.code, err.message, err.headers);
  const type = (err as BodyParserError)?.type;
  if (type === 'entity.too.large') return reply(413, 'payload_too_large', 'The request body is too large.');
  if (type === 'entity.parse.failed')
    return reply(400, 'invalid_json', 'The request body is not valid JSON.');
  if (type === 'encoding.unsupported' || type === 'charset.unsupported')
    return reply(415, 'unsupported_encoding', 'Send the body as UTF-8.');
  const status = (err as BodyParserError)?.status;
  if (typeof status === 'number' && status >= 400 && status < 500)
    return reply(status, 'bad_request', 'The request could not be read.');
  log(err);
  return reply(
    500,
    'internal',
    'Something went wrong on our side; nothing was changed unless you were told so.',
  );
}

/** Last middleware: the answer `errorReply` gives, or the end of a stream already under way. */
export function errorHandler(
  log: (err: unknown) => void,
  storeErrors: { report(err: unknown, what: string): boolean },
): ErrorRequestHandler {
  return (err, req, res, _next) => {
    const what = `${req.method} ${req.originalUrl.split('?')[0]}`; // never the query string
    if (!res.headersSent) return sendReply(res, errorReply(err, what, log, storeErrors));
    // A stream already under way (SSE) ends, so its client reconnects once the store is back.
    if (isStoreUnavailable(err)) {
      storeErrors.report(err, what);
      return void res.end();
    }
    log(err);
  };
}
