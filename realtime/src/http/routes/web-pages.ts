// The built web app: hashed assets cached for good, the pages themselves always revalidated, SPA routes. Source
// maps stay private: the build writes none, and a `.map` left in the folder by a development build is not served.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';
import { sendError } from '../errors.ts';

export function webPageRoutes(webDist: string): Router | null {
  const index = join(webDist, 'index.html');
  if (!existsSync(index)) return null;
  const r = Router();
  r.use((req, res, next) => {
    if (/\.map$/i.test(req.path)) return sendError(res, 404, 'not_found', 'No such page.');
    next();
  });
  r.use(
    '/assets',
    express.static(join(webDist, 'assets'), { immutable: true, maxAge: '1y', fallthrough: false }),
  );
  r.use(express.static(webDist, { index: false, maxAge: '1h' }));
  r.get(['/', '/admin', '/admin/places', '/history', '/board/:id', '/p/:id'], (_req, res) => {
    res.set('Cache-Control', 'no-cache').sendFile(index);
  });
  return r;
}
