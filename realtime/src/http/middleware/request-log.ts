// One structured log line per request: id, method, path (never the query: it may hold an emp_no or a voter token),
// status and duration. The request id is the caller's X-Request-Id when it is sane, else a new one.
import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.ts';

/** Sets X-Request-Id and logs the request once its answer has gone (Express's or a bare response). */
export function logRequest(log: Logger, req: IncomingMessage, res: ServerResponse): void {
  const given = req.headers['x-request-id'];
  const id = typeof given === 'string' && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
  res.setHeader('X-Request-Id', id);
  const started = process.hrtime.bigint();
  res.on('finish', () => {
    log.info(
      {
        req_id: id,
        method: req.method,
        path: (req.url ?? '').split('?')[0],
        status: res.statusCode,
        ms: Number(process.hrtime.bigint() - started) / 1e6,
      },
      'request',
    );
  });
}

export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    // The path as it arrived: a router mounted under a prefix rewrites req.url by the time 'finish' fires.
    const url = req.originalUrl;
    logRequest(log, { headers: req.headers, method: req.method, url } as IncomingMessage, res);
    res.locals.receivedAt = performance.now(); // where a vote's Server-Timing starts
    next();
  };
}
