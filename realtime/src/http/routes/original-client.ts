// The original lunch-vote client's REST shape: `GET /api/votes/stats` (today's lunch poll of the web workspace
// when no poll is named).
import { ID_PATTERN, todaysLunchPoll, WEB_WORKSPACE } from '@livevote/core';
import type { VoteStats } from '@livevote/core/protocol';
import { Router } from 'express';
import type { HttpDeps } from '../deps.ts';
import { HttpError, sendError } from '../errors.ts';
import { sendVersioned } from '../middleware/conditional-get.ts';
import { route } from '../route.ts';

export function originalClientRoutes(deps: HttpDeps): Router {
  const { core } = deps;
  const r = Router();
  r.get(
    '/votes/stats',
    route(async (req, res) => {
      const given = req.query.poll_id;
      let pollId: string | null;
      if (given === undefined) {
        pollId = await todaysLunchPoll(core.polls, WEB_WORKSPACE);
        if (!pollId)
          return sendError(
            res,
            404,
            'unknown_poll',
            'There is no lunch poll today (open, or closed in the last day); pass ?poll_id=.',
          );
      } else if (typeof given === 'string' && ID_PATTERN.test(given)) pollId = given;
      else throw new HttpError(400, 'invalid_poll_id', 'poll_id must be 1-64 letters, digits, "_" or "-".');
      const s = await core.snapshots.fresh(pollId);
      if (!s) return sendError(res, 404, 'unknown_poll', 'No such poll.');
      sendVersioned(req, res, s.version, {
        poll_id: s.poll_id,
        version: s.version,
        place_votes: s.place_votes ?? [],
        menu_votes: s.menu_votes ?? [],
      } satisfies VoteStats);
    }),
  );
  return r;
}
