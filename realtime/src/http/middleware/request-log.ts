// One structured log line per request: id, method, path (never the query: it may hold an emp_no or a voter token),
// status and duration. The request id is the caller's X-Request-Id when it is sane, else a new one.
import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import type { Logger } from '../logger.ts';

export function requestLog(log: Logger): RequestHandler {
  return (req, res, next) => {
    const given = req.get('x-request-id');
    const id = given && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
    res.set('X-Request-Id', id);
    const started = process.hrtime.bigint();
    res.locals.receivedAt = performance.now(); // where a vote's Server-Timing starts
    res.on('finish', () => {
      log.info(
        {
          req_id: id,
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    next();
  };
}
