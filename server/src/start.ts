// Starts one process in its role (all, realtime, bot): the HTTP API, WebSocket/SSE fan-out and chat endpoints on one
// port, the background jobs; drains on SIGTERM.
import { createServer, type Server } from 'node:http';
import type { SlackApp, TeamsApp } from '@livevote/bot';
import { type Archive, closeDuePolls, createCore, DEMO_POLL_ID, OutboxDrain } from '@livevote/core';
import { attachWebSocket, createHttpApp, type Gateway, Hub } from '@livevote/realtime';
import type { Logger } from 'pino';
import { embeddedAdminToken, openAdapters } from './adapters.ts';
import type { Config } from './config.ts';
import { Metrics } from './metrics.ts';
import { seedDemo } from './seed-demo.ts';
import { ensureWebBuild } from './web-build.ts';

export interface Running {
  server: Server;
  url: string;
  adminToken: string;
  hub?: Hub;
  drain?: OutboxDrain;
  stop(): Promise<void>;
}

/** Test seams: what a test swaps for what config would build. */
export interface StartOverrides {
  /** Used instead of the Mongo archive (tests use the in-memory one; no MongoDB runs here). */
  archive?: Archive;
}

const SWEEP_MS = 2_000;
const IDEMPOTENCY_PURGE_MS = 10 * 60_000;

export async function start(config: Config, log: Logger, overrides: StartOverrides = {}): Promise<Running> {
  const adapters = await openAdapters(config, log, overrides);
  const metrics = new Metrics();
  const store = metrics.countVotes(adapters.store);
  const { bus } = adapters;
  const { archive } = adapters;
  const { storeErrors } = adapters;
  // Every role drains the outbox; leases (skip locked) keep two drainers off the same rows.
  let archiveDown = false;
  const drain = archive
    ? new OutboxDrain({
        store,
        archive,
        onError: (err) => {
          if (!archiveDown)
            log.warn({ err: String(err) }, 'archive unreachable; audit entries wait in Postgres');
          archiveDown = true;
        },
        onDelivered: () => {
          if (archiveDown) log.info({}, 'archive reachable again; delivering the outbox');
          archiveDown = false;
        },
        onParked: (ids, error) =>
          log.error({ ids, error }, 'archive keeps refusing outbox rows; parked (livevote outbox-retry)'),
      })
    : undefined;
  drain?.start();
  const { limits } = adapters;
  const core = createCore(store, bus, {
    ...(limits ? { voteLimit: limits.vote, pollLimit: limits.createPoll } : {}),
    onBusDelay: metrics.observeBusDelay,
  });
  const adminToken = config.ADMIN_TOKEN ?? (await embeddedAdminToken(config));
  const appAuth = {
    mode: config.AUTH_MODE,
    ...(config.AUTH_SECRET ? { secret: config.AUTH_SECRET } : {}),
    adminToken,
  };

  const seed = config.SEED_DEMO === 'true' || (config.SEED_DEMO === 'auto' && config.embedded);
  if (seed) log.info({ poll: DEMO_POLL_ID, result: await seedDemo(core) }, 'demo poll');

  const realtime = config.ROLE !== 'bot';
  const hub = realtime
    ? new Hub({
        polls: core.polls,
        bus,
        events: core.events,
        onError: (err) => storeErrors.report(err, 'realtime recovery read failed'),
        onFanout: metrics.observeFanout,
      })
    : undefined;
  hub?.start();
  // Chat apps live in the bot role (and `all`): one process keeps every tally message current.
  const chat = config.ROLE !== 'realtime';
  // Loaded only by the roles that serve chat: Bolt and the Teams SDK are a third of a realtime instance's memory.
  const bot = chat ? await import('@livevote/bot') : undefined;
  const tally = bot ? new bot.TallySync({ core, log, storeErrors }) : undefined;
  let slack: SlackApp | undefined;
  if (bot && tally && config.SLACK_SIGNING_SECRET && config.SLACK_BOT_TOKEN) {
    slack = bot.createSlackApp({
      core,
      tally,
      signingSecret: config.SLACK_SIGNING_SECRET,
      botToken: config.SLACK_BOT_TOKEN,
      ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}),
      ...(config.SLACK_APP_TOKEN ? { appToken: config.SLACK_APP_TOKEN } : {}),
      publicUrl: config.PUBLIC_URL,
      ...(config.AUTH_SECRET ? { voterTokenSecret: config.AUTH_SECRET } : {}),
      log,
      storeErrors,
      ...(adapters.sharedOnce ? { sharedOnce: adapters.sharedOnce } : {}),
    });
    tally.register(slack.platform);
    await slack.start();
    log.info({ mode: config.SLACK_APP_TOKEN ? 'socket' : 'http' }, 'slack app on');
  }
  // Teams: tokens are validated whenever TEAMS_CLIENT_ID is set; without it the endpoint is open only in
  // AUTH_MODE=open (local development and the embedded demo) and off otherwise.
  let teams: TeamsApp | undefined;
  if (bot && tally && (config.TEAMS_CLIENT_ID || config.AUTH_MODE === 'open')) {
    teams = await bot.createTeamsApp({
      core,
      tally,
      ...(config.TEAMS_CLIENT_ID ? { clientId: config.TEAMS_CLIENT_ID } : {}),
      ...(config.TEAMS_CLIENT_SECRET ? { clientSecret: config.TEAMS_CLIENT_SECRET } : {}),
      ...(config.TEAMS_TENANT_ID ? { tenantId: config.TEAMS_TENANT_ID } : {}),
      allowUnauthenticated: config.AUTH_MODE === 'open',
      publicUrl: config.PUBLIC_URL,
      log,
      storeErrors,
    });
    tally.register(teams.platform);
    if (!config.TEAMS_CLIENT_ID)
      log.warn(
        {},
        'Teams endpoint accepts unauthenticated activities (no TEAMS_CLIENT_ID; local development only)',
      );
  }
  await tally?.start();

  const webDist = realtime && config.WEB_APP === 'on' ? await ensureWebBuild(log) : undefined;
  const app = createHttpApp({
    core,
    ...(hub ? { hub } : {}),
    ...(webDist ? { webDist } : {}),
    routers: [...(slack?.router ? [slack.router] : []), ...(teams ? [teams.router] : [])],
    ...(archive ? { archive } : {}),
    metrics: () => metrics.expose(),
    ...(limits ? { limits } : {}),
    trustProxy: config.TRUST_PROXY,
    storeErrors,
    frameAncestors: config.FRAME_ANCESTORS,
    auth: appAuth,
    log,
  });
  const server = createServer(app);
  server.keepAliveTimeout = 65_000; // longer than common load balancers' idle timeout
  const gateway: Gateway | undefined = hub
    ? attachWebSocket(server, {
        hub,
        polls: core.polls,
        auth: appAuth,
        log,
        ...(limits ? { limits } : {}),
        trustProxy: config.TRUST_PROXY,
        storeErrors,
      })
    : undefined;
  metrics.attach({
    core,
    ...(hub ? { hub } : {}),
    ...(gateway ? { gateway } : {}),
    ...(drain ? { drain } : {}),
    ...(tally ? { chat: tally.updater } : {}),
  });

  // Polls close at their close time even when nobody votes; every process sweeps, the store makes it happen once.
  let sweeping = false;
  const sweeper = setInterval(() => {
    if (sweeping) return;
    sweeping = true;
    closeDuePolls(core)
      .then((ids) => ids.length > 0 && log.info({ polls: ids }, 'closed at their close time'))
      .catch((err: unknown) => storeErrors.report(err, 'closing due polls failed'))
      .finally(() => {
        sweeping = false;
      });
  }, SWEEP_MS);
  sweeper.unref();

  // Expired idempotency keys already count as new; this only keeps the table small. Every process runs it (once at
  // start, then every 10 minutes): purges that meet skip each other's rows.
  let purging = false;
  const purgeIdempotency = () => {
    if (purging) return;
    purging = true;
    store
      .purgeIdempotency(config.idempotencyTtlMs)
      .then((n) => n > 0 && log.info({ keys: n }, 'expired idempotency keys purged'))
      .catch((err: unknown) => storeErrors.report(err, 'purging idempotency keys failed'))
      .finally(() => {
        purging = false;
      });
  };
  purgeIdempotency();
  const purger = setInterval(purgeIdempotency, IDEMPOTENCY_PURGE_MS);
  purger.unref();

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.PORT, config.HOST, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : config.PORT;
  log.info({ port, ...adapters.describe }, 'listening');

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      clearInterval(sweeper);
      clearInterval(purger);
      // Stop accepting; tell WebSocket clients to reconnect elsewhere (1012); let in-flight requests finish (their
      // votes are committed before they answer), then close.
      const closingSockets = gateway?.close(1012, 'server restarting');
      hub?.stop();
      // The final state of every chat message still lands before we go.
      await tally?.updater.flush();
      tally?.stop();
      // Snapshots still waiting for their publish slot go out now: the other instances end on the final state.
      await core.events.flush();
      core.events.stop();
      await slack?.stop();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => {
          server.closeAllConnections();
          resolve();
        }, 10_000).unref();
      });
      await closingSockets;
      // Requests are done, so every outbox row is committed: deliver what we can, the rest waits in Postgres.
      if (drain) {
        await drain.stop(); // the background batch in flight lands first, then the rest goes in one flush
        const left = await drain.flush(5_000);
        if (left > 0)
          log.warn({ pending: left }, 'outbox not empty at shutdown; the next process delivers it');
      }
      await adapters.close();
    })();
    return stopping;
  };
  return {
    server,
    url: `http://localhost:${port}`,
    adminToken,
    stop,
    ...(hub ? { hub } : {}),
    ...(drain ? { drain } : {}),
  };
}
