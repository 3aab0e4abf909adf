// The lunch ritual over REST: the places catalog (rows and CSV), schedules and their runs, visit history, and after a
// decision the "I'm in" headcount and the menu round. Everything is the admin's except the headcount (voters) and
// the web workspace's catalog and history (the public pages read them).
import {
  addCatalogPlace,
  type CatalogImportResponse,
  type CatalogPlaceResponse,
  catalogPlaceInputSchema,
  catalogPlacePatchSchema,
  createSchedule,
  createScheduleSchema,
  formatCatalogCsv,
  type HeadcountResponse,
  importCatalogCsv,
  type LunchDestinations,
  listCatalog,
  mayActIn,
  patchScheduleSchema,
  REASON_MESSAGES,
  runSchedule,
  type ScheduleListResponse,
  type ScheduleResponse,
  type ScheduleRunResponse,
  setHeadcount,
  startMenuRound,
  updateCatalogPlace,
  updateSchedule,
  type VisitsResponse,
  visitHistory,
  voterKey,
  WEB_WORKSPACE,
  WebDestinations,
} from '@livevote/core';
import type { CatalogResponse, PollResponse } from '@livevote/core/protocol';
import express, { type Request, Router } from 'express';
import { z } from 'zod';
import type { HttpDeps } from '../deps.ts';
import { HttpError, sendError, sendFailure } from '../errors.ts';
import { requireAdmin, voterOf } from '../identity.ts';
import { adminOnly } from '../middleware/admin-auth.ts';
import { pollIdOf, route, workspaceParam } from '../route.ts';
import { parse } from '../validate.ts';

const idParam = (req: Request, what: 'place' | 'schedule'): string => {
  const id = req.params.id;
  if (typeof id !== 'string' || !/^[A-Za-z0-9_-]{1,64}$/.test(id))
    throw new HttpError(404, `unknown_${what}`, `No such ${what}.`);
  return id;
};

const menuRoundSchema = z.object({ minutes: z.number().int().min(1).max(120).optional() }).strict();

export function lunchRoutes(deps: HttpDeps & { destinations?: LunchDestinations }): Router {
  const { core, auth } = deps;
  const destinations = deps.destinations ?? new WebDestinations();
  const r = Router();
  // A place id names its workspace; `?workspace=`, when given, must agree (else the place is not there).
  const placeWorkspace = async (req: Request, id: string): Promise<string> =>
    workspaceParam(req) ?? (await core.catalog.placeWorkspace(id)) ?? WEB_WORKSPACE;

  // ---- catalog ----

  r.get(
    '/catalog/places',
    route(async (req, res) => {
      const workspace = workspaceParam(req) ?? WEB_WORKSPACE;
      if (workspace !== WEB_WORKSPACE) requireAdmin(req, auth);
      const all = await listCatalog(core, workspace);
      // The admin's row editor asks for inactive places too; pages that make polls see the active ones.
      const places = req.query.include_inactive === 'true' ? all : all.filter((p) => p.active);
      res.json({ places } satisfies CatalogResponse);
    }),
  );

  r.post(
    '/catalog/places',
    adminOnly(auth),
    route(async (req, res) => {
      const body = parse(catalogPlaceInputSchema, req.body);
      const result = await addCatalogPlace(core, body.workspace ?? WEB_WORKSPACE, body);
      if (!result.ok) return sendFailure(res, result);
      res.status(201).json({ place: result.value } satisfies CatalogPlaceResponse);
    }),
  );

  r.patch(
    '/catalog/places/:id',
    adminOnly(auth),
    route(async (req, res) => {
      const id = idParam(req, 'place');
      const patch = parse(catalogPlacePatchSchema, req.body);
      const result = await updateCatalogPlace(core, await placeWorkspace(req, id), id, patch);
      if (!result.ok) return sendFailure(res, result);
      res.json({ place: result.value } satisfies CatalogPlaceResponse);
    }),
  );

  // Deleting deactivates: visits and past polls keep naming the place.
  r.delete(
    '/catalog/places/:id',
    adminOnly(auth),
    route(async (req, res) => {
      const id = idParam(req, 'place');
      const result = await updateCatalogPlace(core, await placeWorkspace(req, id), id, { active: false });
      if (!result.ok) return sendFailure(res, result);
      res.json({ place: result.value } satisfies CatalogPlaceResponse);
    }),
  );

  r.get(
    '/catalog/export.csv',
    adminOnly(auth),
    route(async (req, res) => {
      const workspace = workspaceParam(req) ?? WEB_WORKSPACE;
      res
        .type('text/csv; charset=utf-8')
        .set(
          'Content-Disposition',
          `attachment; filename="livevote-places-${workspace.replace(':', '-')}.csv"`,
        )
        .send(formatCatalogCsv(await listCatalog(core, workspace)));
    }),
  );

  r.post(
    '/catalog/import',
    adminOnly(auth),
    express.text({ type: ['text/csv', 'text/plain'], limit: '1mb' }),
    route(async (req, res) => {
      const workspace = workspaceParam(req) ?? WEB_WORKSPACE;
      if (typeof req.body !== 'string')
        throw new HttpError(415, 'unsupported_media_type', 'Send the catalog as text/csv.');
      const result = await importCatalogCsv(core, workspace, req.body);
      if (!result.ok) return sendFailure(res, result);
      res.json({ workspace, ...result.value } satisfies CatalogImportResponse);
    }),
  );

  // ---- schedules ----

  const scheduleOf = async (req: Request) => {
    const s = await core.lunch.schedule(idParam(req, 'schedule'));
    if (!s) throw new HttpError(404, 'unknown_schedule', 'No such schedule.');
    return s;
  };

  r.get(
    '/schedules',
    adminOnly(auth),
    route(async (req, res) => {
      res.json({ schedules: await core.lunch.schedules(workspaceParam(req)) } satisfies ScheduleListResponse);
    }),
  );

  r.post(
    '/schedules',
    adminOnly(auth),
    route(async (req, res) => {
      const result = await createSchedule(core, parse(createScheduleSchema, req.body));
      if (!result.ok) return sendFailure(res, result);
      res.status(201).set('Location', `/api/schedules/${result.value.id}`);
      res.json({ schedule: result.value } satisfies ScheduleResponse);
    }),
  );

  r.get(
    '/schedules/:id',
    adminOnly(auth),
    route(async (req, res) => {
      res.json({ schedule: await scheduleOf(req) } satisfies ScheduleResponse);
    }),
  );

  r.patch(
    '/schedules/:id',
    adminOnly(auth),
    route(async (req, res) => {
      const patch = parse(patchScheduleSchema, req.body);
      const result = await updateSchedule(core, idParam(req, 'schedule'), patch);
      if (!result.ok) return sendFailure(res, result);
      res.json({ schedule: result.value } satisfies ScheduleResponse);
    }),
  );

  r.delete(
    '/schedules/:id',
    adminOnly(auth),
    route(async (req, res) => {
      if (!(await core.lunch.deleteSchedule(idParam(req, 'schedule'))))
        throw new HttpError(404, 'unknown_schedule', 'No such schedule.');
      res.status(204).end();
    }),
  );

  r.post(
    '/schedules/:id/run',
    adminOnly(auth),
    route(async (req, res) => {
      const schedule = await scheduleOf(req);
      const result = await runSchedule(core, schedule, { destinations, now: new Date(), manual: true });
      if (!result)
        throw new HttpError(
          409,
          'run_in_progress',
          'Today’s poll is being posted right now; ask again in a minute.',
          {
            'Retry-After': '5',
          },
        );
      if (!result.ok) return sendFailure(res, result);
      res.status(result.value.created ? 201 : 200);
      res.json({ poll: result.value.poll, created: result.value.created } satisfies ScheduleRunResponse);
    }),
  );

  // ---- history ----

  r.get(
    '/visits',
    route(async (req, res) => {
      const workspace = workspaceParam(req) ?? WEB_WORKSPACE;
      if (workspace !== WEB_WORKSPACE) requireAdmin(req, auth);
      res.json(
        (await visitHistory(core, workspace, new Date(), deps.lunchTimezone)) satisfies VisitsResponse,
      );
    }),
  );

  // ---- after the decision ----

  const headcount = async (pollId: string, me?: string): Promise<HeadcountResponse> => {
    const h = await core.lunch.headcount(pollId);
    return { poll_id: pollId, count: h.count, ...(me ? { me: h.voters.includes(me) } : {}) };
  };

  r.get(
    '/polls/:id/headcount',
    route(async (req, res) => {
      const id = pollIdOf(req);
      if (!(await core.snapshots.poll(id))) throw new HttpError(404, 'unknown_poll', 'No such poll.');
      const named = req.query.emp_no !== undefined || req.query.token !== undefined;
      res.json(await headcount(id, named ? voterKey(voterOf(req, auth)) : undefined));
    }),
  );

  for (const [method, join] of [
    ['post', true],
    ['delete', false],
  ] as const) {
    r[method](
      '/polls/:id/headcount',
      route(async (req, res) => {
        const id = pollIdOf(req);
        const voter = voterOf(req, auth);
        const poll = await core.snapshots.poll(id);
        if (poll && !mayActIn(voter, poll.workspace))
          return sendError(res, 403, 'wrong_workspace', REASON_MESSAGES.wrong_workspace);
        const me = voterKey(voter);
        const result = await setHeadcount(core, id, me, join);
        if (!result.ok) return sendFailure(res, result);
        res.json(await headcount(id, me));
      }),
    );
  }

  // A voter turns direct lunch nudges off (POST) or on again (DELETE) for a workspace.
  for (const [method, optOut] of [
    ['post', true],
    ['delete', false],
  ] as const) {
    r[method](
      '/nudges/opt-out',
      route(async (req, res) => {
        const workspace = workspaceParam(req) ?? WEB_WORKSPACE;
        const voter = voterOf(req, auth);
        if (!mayActIn(voter, workspace))
          return sendError(res, 403, 'wrong_workspace', REASON_MESSAGES.wrong_workspace);
        await core.lunch.setReminderOptOut(workspace, voterKey(voter), optOut);
        res.json({ workspace, opted_out: optOut });
      }),
    );
  }

  r.post(
    '/polls/:id/menu-round',
    adminOnly(auth),
    route(async (req, res) => {
      const body = parse(menuRoundSchema, req.body ?? {});
      const result = await startMenuRound(core, pollIdOf(req), body.minutes);
      if (!result.ok) return sendFailure(res, result);
      const { poll, snapshot, created } = result.value;
      const fresh = snapshot ?? (await core.snapshots.fresh(poll.id));
      if (!fresh) throw new HttpError(404, 'unknown_poll', 'No such poll.');
      res.status(created ? 201 : 200).json({ poll, snapshot: fresh } satisfies PollResponse);
    }),
  );

  return r;
}
