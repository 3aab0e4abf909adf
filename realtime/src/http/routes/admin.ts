// A workspace's employee directory (the admin's). The places catalog is in lunch.ts.
import { importDirectory, WEB_WORKSPACE } from '@livevote/core';
import type { DirectoryImportResponse, DirectoryResponse } from '@livevote/core/protocol';
import express, { Router } from 'express';
import { csvLine } from '../csv.ts';
import type { HttpDeps } from '../deps.ts';
import { HttpError, sendError } from '../errors.ts';
import { adminOnly } from '../middleware/admin-auth.ts';
import { route, workspaceParam } from '../route.ts';

export function adminRoutes(deps: HttpDeps): Router {
  const { core, auth } = deps;
  const r = Router();

  // The token is checked before the (up to 2 MB) body is read.
  r.post(
    '/directory',
    adminOnly(auth),
    express.text({ type: ['text/csv', 'text/plain'], limit: '2mb' }),
    route(async (req, res) => {
      const workspace = workspaceParam(req) ?? WEB_WORKSPACE;
      if (typeof req.body !== 'string')
        throw new HttpError(415, 'unsupported_media_type', 'Send the directory as text/csv.');
      const result = await importDirectory(core.directory, workspace, req.body);
      if (!result.ok) return sendError(res, 400, result.reason, result.message);
      res.json({ workspace, ...result.value } satisfies DirectoryImportResponse);
    }),
  );

  r.get(
    '/directory',
    adminOnly(auth),
    route(async (req, res) => {
      const workspace = workspaceParam(req) ?? WEB_WORKSPACE;
      res.json({ workspace, entries: await core.directory.directory(workspace) } satisfies DirectoryResponse);
    }),
  );

  r.get(
    '/directory/export.csv',
    adminOnly(auth),
    route(async (req, res) => {
      const workspace = workspaceParam(req) ?? WEB_WORKSPACE;
      let csv = csvLine(['platform', 'tenant', 'user_id', 'emp_no']);
      for (const e of await core.directory.directory(workspace))
        csv += csvLine([e.platform, e.tenant, e.user, e.emp_no]);
      res
        .type('text/csv; charset=utf-8')
        .set(
          'Content-Disposition',
          `attachment; filename="livevote-directory-${workspace.replace(':', '-')}.csv"`,
        )
        .send(csv);
    }),
  );
  return r;
}
