// Health, readiness and metrics: what load balancers, orchestrators and Prometheus ask.
import { Router } from 'express';
import type { HttpDeps } from '../deps.ts';
import { route } from '../route.ts';

/** Whether a health probe answers within 2 s. */
const answers = (probe: Promise<unknown>): Promise<boolean> =>
  Promise.race([
    probe.then(
      () => true,
      () => false,
    ),
    new Promise<boolean>((r) => setTimeout(() => r(false), 2000).unref()),
  ]);

export function operationsRoutes(deps: HttpDeps): Router {
  const r = Router();
  r.get('/healthz', (_req, res) => {
    res.json({ status: 'ok' });
  });
  r.get(
    '/readyz',
    route(async (_req, res) => {
      const [storeOk, archiveOk] = await Promise.all([
        answers(deps.core.ping()),
        deps.archive ? answers(deps.archive.ping()) : undefined,
      ]);
      const busOk = deps.core.bus.ready();
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
  const metrics = deps.metrics;
  if (metrics) {
    r.get(
      '/metrics',
      route(async (_req, res) => {
        const m = await metrics();
        res.set('Content-Type', m.contentType).send(m.body);
      }),
    );
  }
  return r;
}
