// Starts one process in its role (all, realtime, bot): the HTTP API, WebSocket/SSE fan-out and chat endpoints on one
// port, the background jobs; drains on SIGTERM.
import { createServer, type Server } from 'node:http';
import type { SlackApp, TeamsApp } from '@livevote/bot';
import {
  type Archive,
  createCore,
  DEMO_POLL_ID,
  DestinationRouter,
  LunchRitual,
  OutboxDrain,
} from '@livevote/core';
import { attachWebSocket, createHttpApp, type Gateway, Hub } from '@livevote/realtime';
import type { Logger } from 'pino';
import { embeddedAdminToken, openAdapters } from './adapters.ts';
import type { Config } from './config.ts';
import { Metrics } from './metrics.ts';
import { seedDemo } from './seed-demo.ts';
import { ensureWebBuild } from './web-build.ts';

/** The origins Teams (web, desktop, the new cloud.microsoft domain, Outlook and Microsoft 365) frames tabs from. */
export const TEAMS_FRAME_ANCESTORS = [
  'https://teams.microsoft.com',
  'https://*.teams.microsoft.com',
  'https://teams.cloud.microsoft',
  'https://*.cloud.microsoft',
  'https://*.office.com',
  'https://*.skype.com',
] as const;

export interface Running {
  server: Server;
  url: string;
  adminToken: string;
  hub?: Hub;
  drain?: OutboxDrain;
  /** The Teams app when it is on: proactive posts (scheduled polls) go through `teams.postPoll`. */
  teams?: TeamsApp;
  /** Where scheduled lunch polls are posted; chat adapters register their kinds on it. */
  destinations: DestinationRouter;
  ritual?: LunchRitual;
  /** Whether this process seeded the demo lunch poll (SEED_DEMO), so the banner may point at it. */
  demoSeeded: boolean;
  stop(): Promise<void>;
}

/** Test seams: what a test swaps for what config would build. */
export interface StartOverrides {
  /** Used instead of the Mongo archive (tests use the in-memory one; no MongoDB runs here). */
  archive?: Archive;
  /** The lunch ritual's clock (tests move it). */
  now?: () => Date;
}

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
  // Where scheduled lunch polls go: web-only built in; the chat apps register Slack and Teams here.
  const destinations = new DestinationRouter();
  const adminToken = config.ADMIN_TOKEN ?? (await embeddedAdminToken(config));
  const appAuth = {
    mode: config.AUTH_MODE,
    ...(config.AUTH_SECRET
      ? { secret: config.AUTH_SECRET, previousSecrets: config.AUTH_SECRET_PREVIOUS }
      : {}),
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
        restFactor: (100 - config.FANOUT_SHARE_PERCENT) / config.FANOUT_SHARE_PERCENT,
      })
    : undefined;
  hub?.start();
  // Chat apps live in the bot role (and `all`): one process keeps every tally message current.
  const chat = config.ROLE !== 'realtime';
  // Loaded only by the roles that serve chat: Bolt and the Teams SDK are a third of a realtime instance's memory.
  const bot = chat ? await import('@livevote/bot') : undefined;
  const tally = bot
    ? new bot.TallySync({
        core,
        log,
        storeErrors,
        ...(adapters.deliveryLimiterClient
          ? {
              budgets: new bot.RateLimiterBudgets(
                bot.redisLimiters(adapters.deliveryLimiterClient, config.REDIS_PREFIX),
              ),
            }
          : {}),
      })
    : undefined;
  let slack: SlackApp | undefined;
  // One workspace with SLACK_BOT_TOKEN, or many through the OAuth install (config.ts checks they come one at a time).
  const slackOAuth =
    config.slackOAuth && adapters.installations
      ? { ...config.slackOAuth, installations: adapters.installations, publicUrl: config.PUBLIC_URL }
      : undefined;
  if (bot && tally && config.SLACK_SIGNING_SECRET && (config.SLACK_BOT_TOKEN || slackOAuth)) {
    slack = bot.createSlackApp({
      core,
      tally,
      signingSecret: config.SLACK_SIGNING_SECRET,
      ...(config.SLACK_BOT_TOKEN ? { botToken: config.SLACK_BOT_TOKEN } : {}),
      ...(slackOAuth ? { oauth: slackOAuth } : {}),
      ...(config.SLACK_API_URL ? { apiUrl: config.SLACK_API_URL } : {}),
      ...(config.SLACK_APP_TOKEN ? { appToken: config.SLACK_APP_TOKEN } : {}),
      publicUrl: config.PUBLIC_URL,
      ...(config.AUTH_SECRET ? { voterTokenSecret: config.AUTH_SECRET } : {}),
      log,
      storeErrors,
      ...(adapters.sharedOnce ? { sharedOnce: adapters.sharedOnce } : {}),
      lunchEditors: config.LUNCH_EDITORS,
    });
    tally.register(slack.platform);
    destinations.register('slack', slack.destinations);
    await slack.start();
    log.info(
      { mode: config.SLACK_APP_TOKEN ? 'socket' : 'http', workspaces: slackOAuth ? 'oauth' : 'one' },
      'slack app on',
    );
  }
  // Teams: every activity's token is validated whenever TEAMS_CLIENT_ID is set. Without it the endpoint is off, unless
  // TEAMS_ALLOW_UNAUTHENTICATED=true (local development; the config refuses it in AUTH_MODE=signed).
  let teams: TeamsApp | undefined;
  const teamsUnauthenticated = !config.TEAMS_CLIENT_ID && config.TEAMS_ALLOW_UNAUTHENTICATED === 'true';
  if (bot && tally && (config.TEAMS_CLIENT_ID || teamsUnauthenticated)) {
    teams = await bot.createTeamsApp({
      core,
      tally,
      ...(config.TEAMS_CLIENT_ID ? { clientId: config.TEAMS_CLIENT_ID } : {}),
      ...(config.TEAMS_CLIENT_SECRET ? { clientSecret: config.TEAMS_CLIENT_SECRET } : {}),
      ...(config.TEAMS_TENANT_ID ? { tenantId: config.TEAMS_TENANT_ID } : {}),
      allowUnauthenticated: teamsUnauthenticated,
      publicUrl: config.PUBLIC_URL,
      log,
      storeErrors,
      lunchEditors: config.LUNCH_EDITORS,
    });
    tally.register(teams.platform);
    destinations.register('teams', teams.destinations);
    if (teamsUnauthenticated)
      log.warn(
        {},
        'Teams endpoint accepts UNAUTHENTICATED activities (TEAMS_ALLOW_UNAUTHENTICATED=true; local development only)',
      );
  }
  await tally?.start();

  const webDist = realtime && config.WEB_APP === 'on' ? await ensureWebBuild(log) : undefined;
  const app = createHttpApp({
    core,
    ...(hub ? { hub } : {}),
    ...(webDist ? { webDist } : {}),
    routers: [
      ...(slack?.router ? [slack.router] : []),
      ...(teams && bot
        ? [
            teams.router,
            bot.teamsTab({
              core,
              publicUrl: config.PUBLIC_URL,
              ...(config.TEAMS_CLIENT_ID ? { clientId: config.TEAMS_CLIENT_ID } : {}),
              allowUnauthenticated: teamsUnauthenticated,
            }),
          ]
        : bot
          ? [bot.teamsOffRouter()]
          : []),
    ],
    ...(archive ? { archive } : {}),
    metrics: () => metrics.expose(),
    ...(limits ? { limits } : {}),
    trustProxy: config.TRUST_PROXY,
    storeErrors,
    // The board is also a Teams tab: Teams frames it wherever Teams is configured, in every role (in a split
    // deployment the board comes from the realtime processes, the Teams app runs in the bot).
    frameAncestors:
      config.TEAMS_CLIENT_ID || teamsUnauthenticated
        ? [...new Set([...config.FRAME_ANCESTORS, ...TEAMS_FRAME_ANCESTORS])]
        : config.FRAME_ANCESTORS,
    auth: appAuth,
    log,
    destinations,
    ...(config.LUNCH_TIMEZONE ? { lunchTimezone: config.LUNCH_TIMEZONE } : {}),
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
    ...(tally ? { chat: tally.engine } : {}),
  });

  // The lunch ritual: schedules open their polls, reminders go out, and every poll with a close time closes by itself
  // on time, decided fairly, and is announced. Every process runs it; the store makes each step happen once. Chat
  // destinations are registered on the router by the chat apps (web-only destinations work without them).
  const ritual =
    config.LUNCH_RITUAL === 'on'
      ? new LunchRitual({
          core,
          destinations,
          log,
          tickMs: config.LUNCH_TICK_MS,
          extendMinutes: config.LUNCH_EXTEND_MINUTES,
          ...(config.LUNCH_TIMEZONE ? { timezone: config.LUNCH_TIMEZONE } : {}),
          ...(overrides.now ? { now: overrides.now } : {}),
        })
      : undefined;
  ritual?.start();

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
      await ritual?.stop();
      clearInterval(purger);
      // Stop accepting; tell WebSocket clients to reconnect elsewhere (1012); let in-flight requests finish (their
      // votes are committed before they answer), then close.
      const closingSockets = gateway?.close(1012, 'server restarting');
      hub?.stop();
      // The final state of every chat message still lands before we go.
      await tally?.engine.flush();
      await tally?.stop();
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
    destinations,
    demoSeeded: seed,
    ...(ritual ? { ritual } : {}),
    ...(hub ? { hub } : {}),
    ...(drain ? { drain } : {}),
    ...(teams ? { teams } : {}),
  };
}
