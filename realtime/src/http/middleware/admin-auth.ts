// Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>`, compared in constant time.
import type { RequestHandler } from 'express';
import { type AuthSettings, requireAdmin } from '../identity.ts';

/** Refuses the request (401 without a token, 403 with a wrong one) unless it carries the admin token. */
export const adminOnly =
  (auth: AuthSettings): RequestHandler =>
  (req, _res, next) => {
    requireAdmin(req, auth);
    next();
  };
