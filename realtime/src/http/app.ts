// The HTTP API for browsers and the original client, exactly the routes of design.md, plus health.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import {
  addOption,
  addOptionSchema,
  type Bus,
  type CastResult,
  castVote,
  castVoteSchema,
  closePoll,
  createPoll,
  createPollSchema,
  DEMO_PLACES,
  ID_PATTERN,
  idempotencyKeySchema,
  parseDirectoryCsv,
  retractVote,
  type Snapshot,
  type Snapshots,
  type Store,
  type VoteStats,
} from '@livevote/core';
import express, { type NextFunction, type Request, type Response } from 'express';
import type { Hub } from '../fanout/hub.ts';
import { sseHandler } from '../sse/sse-route.ts';
import { csvLine } from './csv.ts';
import { errorHandler, HttpError, sendError, sendFailure } from './errors.ts';
import { type AuthSettings, requireAdmin, voterLabel, voterOf } from './identity.ts';
import { parse } from './validate.ts';

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface HttpDeps {
  store: Store;
  bus: Bus;
  snapshots: Snapshots;
  auth: AuthSettings;
  log: Logger;
  /** Largest JSON body accepted. */
  bodyLimit?: string;
  /** The fan-out hub; when given, SSE is served at /api/polls/:id/events. */
  hub?: Hub;
  /** The built web app (web/dist); when given, it is served with the SPA's routes. */
  webDist?: string;
  /** More routes on the same server (the chat endpoints), mounted before the error handler. */
  routers?: express.Router[];
  /** The audit/archive store (MongoDB); its state shows in /readyz but never makes the instance unready. */
  archive?: { ping(): Promise<void> };
  /** Prometheus exposition for GET /metrics. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
}

type Handler = (req: Request, res: Response) => Promise<void> | void;
// Express 5 forwards rejected promises to the error handler; this only narrows the types.
const route = (h: Handler) => (req: Request, res: Response, next: NextFunction) =>
  Promise.resolve(h(req, res)).catch(next);

function pollIdOf(req: Request): string {
  const id = req.params.id;
  if (typeof id !== 'string' || !ID_PATTERN.test(id))
    throw new HttpError(404, 'unknown_poll', 'No such poll.');
  return id;
}

const etagOf = (s: Snapshot) => `"${s.version}"`;

function voteBody(r: CastResult) {
  return {
    version: r.snapshot.version,
    snapshot: r.snapshot,
    option_ids: r.optionIds,
    changed: r.changed,
    replayed: r.replayed,
  };
}

/** Whether a health probe answers within 2 s. */
const answers = (probe: Promise<unknown>): Promise<boolean> =>
  Promise.race([
    probe.then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref()),
  ]);

export function createHttpApp(deps: HttpDeps): express.Express {
  const { store, bus, snapshots, auth, log } = deps;
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false); // ours is the poll version
  app.set('query parser', 'simple');

  app.use((req, res, next) => {
    const given = req.get('x-request-id');
    const id = given && /^[\w.:-]{1,100}$/.test(given) ? given : randomUUID();
    res.set('X-Request-Id', id);
    const started = process.hrtime.bigint();
    res.on('finish', () => {
      // The path only: query strings may hold an emp_no or a voter token.
      log.info(
        {
          req_id: id,
          method: req.method,
          path: req.originalUrl.split('?')[0],
          status: res.statusCode,
          ms: Number(process.hrtime.bigint() - started) / 1e6,
        },
        'request',
      );
    });
    next();
  });

  app.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  app.get(
    '/readyz',
    route(async (_req, res) => {
      const [storeOk, archiveOk] = await Promise.all([
        answers(store.ping()),
        deps.archive ? answers(deps.archive.ping()) : undefined,
      ]);
      const busOk = bus.ready();
      // Votes need Postgres and (across instances) Redis. MongoDB only receives the outbox later, so an archive
      // outage makes the instance "degraded", not unready: taking it out of the load balancer would help nobody.
      const ready = storeOk && busOk;
      res.status(ready ? 200 : 503).json({
        status: !ready ? 'unavailable' : archiveOk === false ? 'degraded' : 'ready',
        checks: {
          store: storeOk ? 'up' : 'down',
          bus: busOk ? 'up' : 'down',
          archive: archiveOk === undefined ? 'off' : archiveOk ? 'up' : 'down',
        },
      });
    }),
  );
  if (deps.metrics) {
    const metrics = deps.metrics;
    app.get(
      '/metrics',
      route(async (_req, res) => {
        const m = await metrics();
        res.set('Content-Type', m.contentType).send(m.body);
      }),
    );
  }

  const api = express.Router();
  api.use(express.json({ limit: deps.bodyLimit ?? '16kb', strict: true }));
  api.use((_req, res, next) => {
    res.set('Cache-Control', 'no-cache');
    next();
  });

  api.get(
    '/polls',
    route(async (_req, res) => {
      res.json({ polls: await store.listPolls() });
    }),
  );

  api.post(
    '/polls',
    route(async (req, res) => {
      requireAdmin(req, auth);
      const body = parse(createPollSchema, req.body);
      const r = await createPoll({ store, bus, snapshots }, body, 'admin');
      if (!r.ok) return sendFailure(res, r);
      res.status(201).set('Location', `/api/polls/${r.value.poll.id}`).set('ETag', etagOf(r.value.snapshot));
      res.json({ poll: r.value.poll, snapshot: r.value.snapshot });
    }),
  );

  api.get(
    '/polls/:id',
    route(async (req, res) => {
      const id = pollIdOf(req);
      const snapshot = await snapshots.fresh(id);
      const poll = snapshot && (await snapshots.poll(id));
      if (!snapshot || !poll) return sendError(res, 404, 'unknown_poll', 'No such poll.');
      res.set('ETag', etagOf(snapshot));
      if (
        req
          .get('if-none-match')
          ?.split(/\s*,\s*/)
          .includes(etagOf(snapshot))
      ) {
        res.status(304).end();
        return;
      }
      res.json({ poll: { ...poll, status: snapshot.status }, snapshot });
    }),
  );

  if (deps.hub) {
    const sse = sseHandler(deps.hub);
    api.get(
      '/polls/:id/events',
      route(async (req, res) => {
        const id = pollIdOf(req);
        if (!(await snapshots.poll(id))) return sendError(res, 404, 'unknown_poll', 'No such poll.');
        await sse(req, res, id);
      }),
    );
  }

  api.post(
    '/polls/:id/close',
    route(async (req, res) => {
      requireAdmin(req, auth);
      const r = await closePoll({ store, bus, snapshots }, pollIdOf(req), 'admin');
      if (!r.ok) return sendFailure(res, r);
      res
        .set('ETag', etagOf(r.value.snapshot))
        .json({ snapshot: r.value.snapshot, changed: r.value.changed });
    }),
  );

  api.post(
    '/polls/:id/votes',
    route(async (req, res) => {
      const pollId = pollIdOf(req);
      const voter = voterOf(req, auth);
      const key = req.get('idempotency-key');
      if (key !== undefined && !idempotencyKeySchema.safeParse(key).success) {
        throw new HttpError(
          400,
          'invalid_idempotency_key',
          'Idempotency-Key must be 1-200 visible ASCII characters.',
        );
      }
      const body = parse(castVoteSchema, req.body);
      const r = await castVote(
        { store, snapshots },
        {
          pollId,
          questionId: body.question_id,
          optionIds: body.option_ids,
          voter,
          ...(key ? { idempotencyKey: key } : {}),
        },
      );
      if (!r.ok) return sendFailure(res, r);
      if (r.value.replayed) res.set('Idempotent-Replayed', 'true');
      res.set('ETag', etagOf(r.value.snapshot)).json(voteBody(r.value));
    }),
  );

  api.get(
    '/polls/:id/my-votes',
    route(async (req, res) => {
      const pollId = pollIdOf(req);
      const voter = voterOf(req, auth);
      if (!(await snapshots.poll(pollId))) return sendError(res, 404, 'unknown_poll', 'No such poll.');
      res.json({ ballots: await store.ballotsOf(pollId, voter) });
    }),
  );

  api.delete(
    '/polls/:id/votes/:question_id',
    route(async (req, res) => {
      const pollId = pollIdOf(req);
      const voter = voterOf(req, auth);
      const questionId = String(req.params.question_id);
      if (!ID_PATTERN.test(questionId))
        throw new HttpError(422, 'unknown_question', 'This poll has no such question.');
      const r = await retractVote({ store, snapshots }, { pollId, questionId, voter });
      if (!r.ok) return sendFailure(res, r);
      res.set('ETag', etagOf(r.value.snapshot)).json(voteBody(r.value));
    }),
  );

  api.post(
    '/polls/:id/questions/:question_id/options',
    route(async (req, res) => {
      const pollId = pollIdOf(req);
      const voter = voterOf(req, auth);
      const body = parse(addOptionSchema, req.body);
      const r = await addOption(
        { store, bus, snapshots },
        pollId,
        String(req.params.question_id),
        body.label,
        voterLabel(voter),
      );
      if (!r.ok) return sendFailure(res, r);
      res.status(201).json({ option_id: r.value.optionId, snapshot: r.value.snapshot });
    }),
  );

  api.get(
    '/catalog/places',
    route(async (_req, res) => {
      // The catalog is the places (with menus) of the newest lunch poll, so it grows with use; the demo's to start.
      const latest = (await store.listPolls(50)).find((p) => p.template === 'lunch');
      const poll = latest && (await snapshots.poll(latest.id));
      if (!poll) return void res.json({ places: DEMO_PLACES });
      const menus = poll.questions.find((q) => q.kind === 'menu')?.options ?? [];
      const places = (poll.questions.find((q) => q.kind === 'place')?.options ?? []).map((p) => ({
        name: p.label,
        ...(p.label_en ? { label_en: p.label_en } : {}),
        menus: menus
          .filter((m) => m.place_id === p.id)
          .map((m) => ({ name: m.label, ...(m.label_en ? { label_en: m.label_en } : {}) })),
      }));
      res.json({ places });
    }),
  );

  api.get(
    '/votes/stats',
    route(async (req, res) => {
      const given = req.query.poll_id;
      let pollId: string | undefined;
      if (given === undefined) {
        // The original client asks without a poll: today's lunch poll, the newest open one.
        pollId = (await store.listPolls()).find((p) => p.template === 'lunch' && p.status === 'open')?.id;
        if (!pollId)
          return sendError(res, 404, 'unknown_poll', 'There is no open lunch poll; pass ?poll_id=.');
      } else if (typeof given === 'string' && ID_PATTERN.test(given)) pollId = given;
      else throw new HttpError(400, 'invalid_poll_id', 'poll_id must be 1-64 letters, digits, "_" or "-".');
      const s = await snapshots.fresh(pollId);
      if (!s) return sendError(res, 404, 'unknown_poll', 'No such poll.');
      const stats: VoteStats = {
        poll_id: s.poll_id,
        version: s.version,
        place_votes: s.place_votes ?? [],
        menu_votes: s.menu_votes ?? [],
      };
      res.set('ETag', etagOf(s)).json(stats);
    }),
  );

  api.get(
    '/polls/:id/export.csv',
    route(async (req, res) => {
      requireAdmin(req, auth);
      const id = pollIdOf(req);
      const poll = await snapshots.poll(id);
      if (!poll) return sendError(res, 404, 'unknown_poll', 'No such poll.');
      const rows = await store.exportBallots(id);
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
      for (const r of rows) {
        csv += csvLine([
          r.cast_at,
          r.question_id,
          prompt.get(r.question_id),
          r.option_id,
          r.label,
          ...(anonymous ? [] : [r.voter, r.platform]),
        ]);
      }
      res
        .type('text/csv; charset=utf-8')
        .set('Content-Disposition', `attachment; filename="livevote-${id}.csv"`)
        .send(`\ufeff${csv}`); // BOM: Excel then reads Korean labels as UTF-8
    }),
  );

  api.post(
    '/directory',
    express.text({ type: ['text/csv', 'text/plain'], limit: '2mb' }),
    route(async (req, res) => {
      requireAdmin(req, auth);
      if (typeof req.body !== 'string')
        throw new HttpError(415, 'unsupported_media_type', 'Send the directory as text/csv.');
      const parsed = parseDirectoryCsv(req.body);
      if (!parsed.ok) return sendError(res, 400, parsed.reason, parsed.message);
      res.json({ imported: await store.importDirectory(parsed.value) });
    }),
  );

  api.use((_req, res) => sendError(res, 404, 'not_found', 'No such API route.'));
  // Chat endpoints first: Teams' POST /api/messages would otherwise meet the API's 404.
  for (const r of deps.routers ?? []) app.use(r);
  app.use('/api', api);

  const index = deps.webDist && join(deps.webDist, 'index.html');
  if (deps.webDist && index && existsSync(index)) {
    // Hashed assets may be cached for good; the page itself must always be revalidated.
    app.use(
      '/assets',
      express.static(join(deps.webDist, 'assets'), { immutable: true, maxAge: '1y', fallthrough: false }),
    );
    app.use(express.static(deps.webDist, { index: false, maxAge: '1h' }));
    app.get(['/', '/admin', '/board/:id', '/p/:id'], (_req, res) => {
      res.set('Cache-Control', 'no-cache').sendFile(index);
    });
  }
  app.use(errorHandler((err) => log.error({ err }, 'unhandled error')));
  return app;
}
