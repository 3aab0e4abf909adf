// Every text response leaves compressed when the client accepts it: brotli, else gzip (the `compression` middleware,
// which negotiates Accept-Encoding, sets Vary and skips bodies under 1 KB and already-compressed types such as woff2).
// A live stream is never compressed: the middleware would hold SSE events back until its buffer fills. The SSE
// route says `Cache-Control: no-transform`, which the middleware honours; the content-type check makes that hold
// for any future stream too.
import type { IncomingMessage, ServerResponse } from 'node:http';
import compression from 'compression';
import type { RequestHandler } from 'express';

export function isLiveStream(res: ServerResponse): boolean {
  return /^text\/event-stream\b/i.test(String(res.getHeader('Content-Type') ?? ''));
}

export function compressResponses(): RequestHandler {
  return compression({
    threshold: 1024,
    filter: (req: IncomingMessage, res: ServerResponse) =>
      !isLiveStream(res) &&
      compression.filter(
        req as Parameters<typeof compression.filter>[0],
        res as Parameters<typeof compression.filter>[1],
      ),
  });
}
