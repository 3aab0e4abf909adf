// The vote, outside Express. POST /api/polls/:id/votes is the one hot route: at 256 concurrent voters a profile of
// the API put ~80 % of its CPU in Express, its body parser, compression and their event listeners, and ~5 % in the
// vote itself, so the votes/s over HTTP were a quarter of those in process. This answers the common request the
// same way the Express route does (castReply, errorReply, the same security headers, request id and log line)
// with none of that machinery; anything unusual — another path spelling, no Content-Length, another content type
// or encoding, an empty or oversized body — is left to Express, which answers it as it always has.
// The answer is never compressed: it is a few hundred bytes to a few KB of JSON, and it goes out at once.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import type { HttpDeps } from './deps.ts';
import { errorReply, type Reply } from './errors.ts';
import { logRequest } from './middleware/request-log.ts';
import { setSecurityHeaders } from './middleware/security-headers.ts';
import { castReply } from './routes/votes.ts';

/** The exact spelling we take; Express also matches case variants and a trailing slash, and keeps those. */
const VOTE_PATH = /^\/api\/polls\/([A-Za-z0-9_-]{1,64})\/votes(?:\?(.*))?$/;
const JSON_TYPE = /^application\/json\s*(?:;\s*charset="?utf-8"?\s*)?$/i;

/** '16kb' (body-parser's notation) in bytes. */
export function limitBytes(limit: string): number {
  const m = /^(\d+)\s*(b|kb|mb)?$/i.exec(limit.trim());
  if (!m) throw new Error(`body limit "${limit}" is not <n>, <n>kb or <n>mb`);
  const unit = (m[2] ?? 'b').toLowerCase();
  return Number(m[1]) * (unit === 'mb' ? 1024 * 1024 : unit === 'kb' ? 1024 : 1);
}

/**
 * A request listener's first step: answers a plain vote and returns true, or returns false without touching the
 * request (Express takes it).
 */
export function fastVotes(
  deps: HttpDeps,
  securityHeaders: readonly [string, string][],
  storeErrors: { report(err: unknown, what: string): boolean },
  logError: (err: unknown) => void,
): (req: IncomingMessage, res: ServerResponse) => boolean {
  const limit = limitBytes(deps.bodyLimit ?? '16kb');
  return (req, res) => {
    if (req.method !== 'POST') return false;
    const m = VOTE_PATH.exec(req.url ?? '');
    if (!m) return false;
    const h = req.headers;
    const length = Number(h['content-length']);
    if (
      !JSON_TYPE.test(h['content-type'] ?? '') ||
      (h['content-encoding'] !== undefined && h['content-encoding'] !== 'identity') ||
      h['transfer-encoding'] !== undefined ||
      !Number.isInteger(length) ||
      length <= 0 ||
      length > limit
    )
      return false;
    const receivedAt = performance.now();
    setSecurityHeaders(res, securityHeaders);
    logRequest(deps.log, req, res);
    const what = `POST /api/polls/${m[1]}/votes`;
    // A client that goes away mid-body: 'end' never comes and nothing is answered (Node emits no 'error' on an
    // aborted request that nobody listens for errors on; a test holds that).
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= length) chunks.push(c);
    });
    req.on('end', () => {
      let body: unknown;
      try {
        body = parseJson(Buffer.concat(chunks).toString('utf8'), size === length);
      } catch (err) {
        return send(res, errorReply(err, what, logError, storeErrors));
      }
      res.setHeader('Cache-Control', 'no-cache'); // as the API's: after the body parsed
      castReply(deps, {
        pollId: m[1],
        query: parseQuery(m[2] ?? ''),
        get: (name) => {
          const v = h[name.toLowerCase()];
          return Array.isArray(v) ? v.join(', ') : v;
        },
        body,
        receivedAt,
      }).then(
        (reply) => send(res, reply),
        (err: unknown) => send(res, errorReply(err, what, logError, storeErrors)),
      );
    });
    return true;
  };
}

/** As body-parser's strict JSON: an object or an array, else the same `entity.parse.failed` it raises. */
function parseJson(text: string, whole: boolean): unknown {
  const first = text.trimStart()[0];
  if (!whole || (first !== '{' && first !== '[')) throw Object.assign(new Error('bad json'), PARSE_FAILED);
  try {
    return JSON.parse(text);
  } catch {
    throw Object.assign(new Error('bad json'), PARSE_FAILED);
  }
}
const PARSE_FAILED = { type: 'entity.parse.failed', status: 400 };

function send(res: ServerResponse, reply: Reply): void {
  if (res.headersSent || res.destroyed) return;
  const json = JSON.stringify(reply.body);
  res.statusCode = reply.status;
  for (const [name, value] of Object.entries(reply.headers)) res.setHeader(name, value);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(json));
  res.end(json);
}
