// The HTTP edge: operations, the REST API by resource, the chat endpoints, the web pages. Each route module turns a
// request into a use-case call and its result into a response shape from the protocol.

import type { RequestListener } from 'node:http';
import { loggableError, StoreErrorLog } from '@livevote/core';
import express from 'express';
import type { HttpDeps } from './deps.ts';
import { errorHandler, sendError } from './errors.ts';
import { fastVotes } from './fast-votes.ts';
import { compressResponses } from './middleware/compression.ts';
import { requestLog } from './middleware/request-log.ts';
import { securityHeaderList, securityHeaders } from './middleware/security-headers.ts';
import { adminRoutes } from './routes/admin.ts';
import { lunchRoutes } from './routes/lunch.ts';
import { operationsRoutes } from './routes/operations.ts';
import { originalClientRoutes } from './routes/original-client.ts';
import { pollRoutes } from './routes/polls.ts';
import { voteRoutes } from './routes/votes.ts';
import { webPageRoutes } from './routes/web-pages.ts';

export type { HttpDeps } from './deps.ts';
export type { Logger } from './logger.ts';

/**
 * The HTTP edge as one request listener: a plain vote goes to the fast path (fast-votes.ts), everything else to
 * the Express app; both answer alike.
 */
export function createHttpApp(deps: HttpDeps): RequestListener {
  const headers = securityHeaderList(deps.frameAncestors);
  const storeErrors = deps.storeErrors ?? new StoreErrorLog(deps.log);
  const logError = (err: unknown) => deps.log.error({ error: loggableError(err) }, 'unhandled error');
  const app = expressApp(deps, headers, storeErrors, logError);
  const fast = fastVotes(deps, headers, storeErrors, logError);
  return (req, res) => {
    if (!fast(req, res)) app(req, res);
  };
}

function expressApp(
  deps: HttpDeps,
  headers: readonly [string, string][],
  storeErrors: { report(err: unknown, what: string): boolean },
  logError: (err: unknown) => void,
): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders(headers));
  app.use(compressResponses());
  app.set('etag', false); // ours is the poll version
  app.set('query parser', 'simple');
  if (deps.trustProxy) app.set('trust proxy', deps.trustProxy); // req.ip then agrees with clientAddress()
  app.use(requestLog(deps.log));
  app.use(operationsRoutes(deps));

  const api = express.Router();
  api.use(express.json({ limit: deps.bodyLimit ?? '16kb', strict: true }));
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-cache');
    next();
  });
  api.use(
    pollRoutes(deps),
    voteRoutes(deps),
    adminRoutes(deps),
    lunchRoutes(deps),
    originalClientRoutes(deps),
  );
  api.use((_req, res) => sendError(res, 404, 'not_found', 'No such API route.'));

  // Chat endpoints first: Teams' POST /api/messages would otherwise meet the API's 404.
  for (const r of deps.routers ?? []) app.use(r);
  app.use('/api', api);
  const pages = deps.webDist ? webPageRoutes(deps.webDist) : null;
  if (pages) app.use(pages);
  // Ours, not Express's default 404 page: that one replaces the security headers' CSP with its own.
  app.use((_req, res) => sendError(res, 404, 'not_found', 'No such page.'));
  app.use(errorHandler(logError, storeErrors));
  return app;
}
