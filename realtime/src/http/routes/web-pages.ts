// The built web app: hashed assets cached for good, the pages themselves always revalidated, SPA routes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import express, { Router } from 'express';

export function webPageRoutes(webDist: string): Router | null {
  const index = join(webDist, 'index.html');
  if (!existsSync(index)) return null;
  const r = Router();
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
