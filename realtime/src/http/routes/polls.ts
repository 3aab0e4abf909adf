// Polls as a resource: list, create, read (conditional), live events (SSE), close, CSV export.
import {
  closePoll,
  createPoll,
  createPollSchema,
  type PollListResponse,
  type PollResponse,
  revealResults,
  turnoutTimeline,
  WEB_WORKSPACE,
} from '@livevote/core';
import type { CloseResponse, RevealResponse } from '@livevote/core/protocol';
import { Router } from 'express';
import { sseHandler } from '../../sse/sse-route.ts';
import { csvLine } from '../csv.ts';
import type { HttpDeps } from '../deps.ts';
import { HttpError, sendError, sendFailure } from '../errors.ts';
import { isAdmin } from '../identity.ts';
import { addressLimit } from '../middleware/address-limit.ts';
import { adminOnly } from '../middleware/admin-auth.ts';
import { etagOf, sendVersioned } from '../middleware/conditional-get.ts';
import { pollIdOf, route, workspaceParam } from '../route.ts';
import { parse } from '../validate.ts';

export function pollRoutes(deps: HttpDeps): Router {
  const { core, auth } = deps;
  const r = Router();

  r.get(
    '/polls',
    route(async (req, res) => {
      // Without the admin token: the web workspace's polls only. Chat workspaces' polls are theirs.
      const workspace = workspaceParam(req);
      const admin = isAdmin(req, auth);
      if (!admin && workspace !== undefined && workspace !== WEB_WORKSPACE)
        throw new HttpError(401, 'admin_required', 'Listing another workspace needs the admin token.', {
          'WWW-Authenticate': 'Bearer',
        });
      const polls = await core.polls.listPolls({ workspace: admin ? workspace : WEB_WORKSPACE });
      res.json({ polls } satisfies PollListResponse);
    }),
  );

  r.post(
    '/polls',
    adminOnly(auth),
    addressLimit(deps.limits?.createPoll, deps.trustProxy ?? 0, 'polls created'),
    route(async (req, res) => {
      const body = parse(createPollSchema, req.body);
      const result = await createPoll(core, body, { kind: 'admin' });
      if (!result.ok) return sendFailure(res, result);
      const { poll, snapshot } = result.value;
      res.status(201).set('Location', `/api/polls/${poll.id}`).set('ETag', etagOf(snapshot.version));
      res.json({ poll, snapshot } satisfies PollResponse);
    }),
  );

  r.get(
    '/polls/:id',
    route(async (req, res) => {
      const id = pollIdOf(req);
      const snapshot = await core.snapshots.fresh(id);
      const poll = snapshot && (await core.snapshots.poll(id));
      if (!snapshot || !poll) return sendError(res, 404, 'unknown_poll', 'No such poll.');
      sendVersioned(req, res, snapshot.version, {
        poll: { ...poll, status: snapshot.status },
        snapshot,
      } satisfies PollResponse);
    }),
  );

  // Voters over time, for the board's chart: counts only, empty while the poll hides its turnout.
  r.get(
    '/polls/:id/timeline',
    route(async (req, res) => {
      const timeline = await turnoutTimeline(core, pollIdOf(req));
      if (!timeline) return sendError(res, 404, 'unknown_poll', 'No such poll.');
      res.json(timeline);
    }),
  );

  const hub = deps.hub;
  if (hub) {
    const sse = sseHandler(hub);
    r.get(
      '/polls/:id/events',
      route(async (req, res) => {
        const id = pollIdOf(req);
        if (!(await core.snapshots.poll(id))) return sendError(res, 404, 'unknown_poll', 'No such poll.');
        await sse(req, res, id);
      }),
    );
  }

  r.post(
    '/polls/:id/close',
    adminOnly(auth),
    route(async (req, res) => {
      const result = await closePoll(core, pollIdOf(req), { kind: 'admin' });
      if (!result.ok) return sendFailure(res, result);
      const { snapshot, changed } = result.value;
      res.set('ETag', etagOf(snapshot.version)).json({ snapshot, changed } satisfies CloseResponse);
    }),
  );

  r.post(
    '/polls/:id/reveal',
    adminOnly(auth),
    route(async (req, res) => {
      const result = await revealResults(core, pollIdOf(req), { kind: 'admin' });
      if (!result.ok) return sendFailure(res, result);
      const { snapshot, changed } = result.value;
      res.set('ETag', etagOf(snapshot.version)).json({ snapshot, changed } satisfies RevealResponse);
    }),
  );

  r.get(
    '/polls/:id/export.csv',
    adminOnly(auth),
    route(async (req, res) => {
      const id = pollIdOf(req);
      const workspace = workspaceParam(req);
      const poll = await core.snapshots.poll(id);
      // With ?workspace=, a poll of another workspace is not there at all.
      if (!poll || (workspace !== undefined && poll.workspace !== workspace))
        return sendError(res, 404, 'unknown_poll', 'No such poll.');
      const rows = await core.ballots.exportBallots(id);
      const anonymous = poll.settings.anonymous;
      const prompt = new Map(poll.questions.map((q) => [q.id, q.prompt]));
      let csv = csvLine([
        'cast_at',
        'question_id',
        'question',
        'option_id',
        'option',
        ...(anonymous ? [] : ['voter', 'platform']),
      ]);
      for (const row of rows) {
        csv += csvLine([
          row.cast_at,
          row.question_id,
          prompt.get(row.question_id),
          row.option_id,
          row.label,
          ...(anonymous ? [] : [row.voter, row.platform]),
        ]);
      }
      res
        .type('text/csv; charset=utf-8')
        .set('Content-Disposition', `attachment; filename="livevote-${id}.csv"`)
        .send(`\ufeff${csv}`); // BOM: Excel then reads Korean labels as UTF-8
    }),
  );
  return r;
}
