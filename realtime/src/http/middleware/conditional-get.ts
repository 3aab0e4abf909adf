// Conditional GET on the poll version: `ETag: "<version>"`, and `If-None-Match` (strong or weak `W/`, a list, or `*`)
// answered with 304 when the client already has that version. A proxy that compresses the body may weaken the ETag,
// so a weak match counts: the version names the content exactly.
import type { Request, Response } from 'express';

export const etagOf = (version: number): string => `"${version}"`;

function notModified(req: Request, version: number): boolean {
  const header = req.get('if-none-match');
  if (!header) return false;
  const want = etagOf(version);
  return header
    .split(',')
    .map((t) => t.trim().replace(/^W\//, ''))
    .some((t) => t === want || t === '*');
}

/** Sets the ETag and sends the body, or 304 when the client's copy is current. */
export function sendVersioned(req: Request, res: Response, version: number, body: unknown): void {
  res.set('ETag', etagOf(version));
  if (notModified(req, version)) {
    res.status(304).end();
    return;
  }
  res.json(body);
}
