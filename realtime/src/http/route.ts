// Express 5 forwards rejected promises to the error handler; this narrows the handler type and keeps that promise.

import { ID_PATTERN, WORKSPACE_PATTERN } from '@livevote/core/protocol';
import type { NextFunction, Request, Response } from 'express';
import { HttpError } from './errors.ts';

type Handler = (req: Request, res: Response) => Promise<void> | void;

export const route = (h: Handler) => (req: Request, res: Response, next: NextFunction) =>
  Promise.resolve(h(req, res)).catch(next);

/** The poll id of `/polls/:id` routes; a malformed one is simply an unknown poll. */
export const pollIdOf = (req: Request): string => checkedPollId(req.params.id);

export function checkedPollId(id: unknown): string {
  if (typeof id !== 'string' || !ID_PATTERN.test(id))
    throw new HttpError(404, 'unknown_poll', 'No such poll.');
  return id;
}

/** An optional `?workspace=` filter, checked. */
export function workspaceParam(req: Request): string | undefined {
  const w = req.query.workspace;
  if (w === undefined) return undefined;
  if (typeof w !== 'string' || !WORKSPACE_PATTERN.test(w))
    throw new HttpError(
      400,
      'invalid_workspace',
      'workspace must be "web", "slack:<team id>" or "teams:<tenant id>".',
    );
  return w;
}
