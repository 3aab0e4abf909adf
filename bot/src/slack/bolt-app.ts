// Bolt's App and receiver for either way of running the Slack app, over HTTP or in socket mode:
// - one workspace (SLACK_BOT_TOKEN): that token for every call;
// - many workspaces (OAuth): GET /slack/install sends the browser to Slack's authorize page, GET /slack/oauth_redirect
//   exchanges the code on SLACK_API_URL (Bolt's InstallProvider, state checked against the browser's cookie) and
//   keeps the installation sealed in the InstallationStore; each request, and each call made outside one (tokenFor),
//   uses its own workspace's token. Uninstalling the app or revoking its bot token forgets the installation.
//
// The install routes are ours to mount (an Express router) rather than Bolt's receivers' own: in socket mode Bolt
// would serve them from a second HTTP server on another port; this way both modes serve them on PORT.
import { type InstallationStore as Installations, slackWorkspace } from '@livevote/core';
import { App, ExpressReceiver, type Logger, LogLevel } from '@slack/bolt';
import { InstallProvider } from '@slack/oauth';
import type { WebClientOptions } from '@slack/web-api';
import { Router } from 'express';
import { installCallbacks } from './install-pages.ts';
import { boltInstallationStore, type SlackIds } from './installation-store.ts';
import { manifestBotScopes } from './manifest.ts';

export const INSTALL_PATH = '/slack/install';
export const REDIRECT_PATH = '/slack/oauth_redirect';
const SLACK_API_URL = 'https://slack.com/api/';

export interface SlackOAuthOptions {
  /** SLACK_CLIENT_ID, SLACK_CLIENT_SECRET: the app's credentials for exchanging an install code. */
  clientId: string;
  clientSecret: string;
  /** SLACK_STATE_SECRET: signs the `state` that ties Slack's redirect to the browser that started the install. */
  stateSecret: string;
  /** Where installations live (sealed with ENCRYPTION_KEY), shared by every bot process. */
  installations: Installations;
  /** PUBLIC_URL: Slack sends the installing browser back to PUBLIC_URL/slack/oauth_redirect. */
  publicUrl: string;
}

export interface BoltLog {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
}

export interface BoltAppOptions {
  signingSecret: string;
  /** One workspace: SLACK_BOT_TOKEN. Exactly one of botToken and oauth. */
  botToken?: string;
  /** Many workspaces: the OAuth install. */
  oauth?: SlackOAuthOptions;
  /** Slack's Web API base (SLACK_API_URL); tests point it at a local fake. Slack's authorize page is its sibling. */
  apiUrl?: string;
  /** SLACK_APP_TOKEN: socket mode instead of HTTP. */
  appToken?: string;
  /** The Web API client's options for calls made through the App (retries, rate-limit handling). */
  clientOptions?: WebClientOptions;
  log: BoltLog;
}

export interface BoltApp {
  app: App;
  /** HTTP mode: serves POST /slack/events and, with OAuth, the install routes (all on `receiver.router`). */
  receiver?: ExpressReceiver;
  /** Socket mode with OAuth: the install routes, for our HTTP server (there is no receiver router to carry them). */
  installRouter?: Router;
  /**
   * The bot token for a workspace, for calls outside a request (updating a tally message): the installation's
   * token with OAuth (undefined when the workspace has none, e.g. after an uninstall), else SLACK_BOT_TOKEN. Pass the
   * ids Slack sent, or the workspace id (`slack:T…`, or `slack:E…` for an org-wide install). Throws when the store
   * fails or the stored credentials cannot be trusted (a wrong ENCRYPTION_KEY): that is not "not installed".
   */
  tokenFor(target: SlackIds | { workspace: string }): Promise<string | undefined>;
}

/** Slack's authorize page beside its Web API: https://slack.com/api/ → https://slack.com/oauth/v2/authorize. */
export const authorizeUrl = (apiUrl: string = SLACK_API_URL): string =>
  new URL('../oauth/v2/authorize', apiUrl).toString();

/**
 * Bolt's OAuth warnings go to our log; its debug and info lines (installation queries) are dropped, and so are its
 * errors: each one it logs also reaches the failure page (install-pages.ts) or our HTTP error handler, which log it.
 */
function oauthLogger(log: BoltLog): Logger {
  const line = (msg: unknown[]) =>
    msg.map((m) => (m instanceof Error ? `${m.name}: ${m.message}` : String(m))).join(' ');
  return {
    debug() {},
    info() {},
    warn: (...msg: unknown[]) => log.warn({ detail: line(msg) }, 'Slack OAuth'),
    error() {},
    setLevel() {},
    getLevel: () => LogLevel.WARN,
    setName() {},
  };
}

function installer(oauth: SlackOAuthOptions, apiUrl: string | undefined, log: BoltLog): InstallProvider {
  return new InstallProvider({
    clientId: oauth.clientId,
    clientSecret: oauth.clientSecret,
    stateSecret: oauth.stateSecret,
    installationStore: boltInstallationStore(oauth.installations),
    directInstall: true, // straight to Slack's page: no "Add to Slack" page of ours in between
    installUrlOptions: {
      scopes: manifestBotScopes(),
      redirectUri: `${oauth.publicUrl.replace(/\/+$/, '')}${REDIRECT_PATH}`,
    },
    authorizationUrl: authorizeUrl(apiUrl),
    // A browser is waiting, and a code exchange is not safe to repeat blindly: one try, a bounded wait.
    clientOptions: {
      ...(apiUrl ? { slackApiUrl: apiUrl } : {}),
      retryConfig: { retries: 0 },
      timeout: 10_000,
    },
    logger: oauthLogger(log),
  });
}

function installRoutes(provider: InstallProvider, log: BoltLog): Router {
  const callbacks = installCallbacks(log);
  return Router()
    .get(INSTALL_PATH, (req, res) => provider.handleInstallPath(req, res))
    .get(REDIRECT_PATH, (req, res) => provider.handleCallback(req, res, callbacks));
}

/** The app was removed from a workspace, or its bot token revoked: forget that workspace's installation. */
function forgetOnUninstall(app: App, installations: Installations, log: BoltLog): void {
  const forget = async (ids: SlackIds, event: string) => {
    const workspace = slackWorkspace(ids);
    if (!workspace) return;
    const removed = await installations.deleteInstallation(workspace);
    log.info({ workspace, event, removed }, 'Slack installation forgotten');
  };
  // Bolt runs both without authorizing them first: the installation may already be gone.
  app.event('app_uninstalled', async ({ context }) => forget(context, 'app_uninstalled'));
  app.event('tokens_revoked', async ({ event, context }) => {
    if ((event.tokens.bot ?? []).length > 0) return forget(context, 'tokens_revoked');
    // Only user tokens: we ask for no user scopes, but an installation holding a revoked one drops it.
    const revoked = event.tokens.oauth ?? [];
    const workspace = slackWorkspace(context);
    const found = workspace && revoked.length > 0 ? await installations.installation(workspace) : null;
    const user = found?.credentials.user as { id?: string; token?: string } | undefined;
    if (!found || !user?.token || !user.id || !revoked.includes(user.id)) return;
    await installations.saveInstallation({
      ...found,
      credentials: { ...found.credentials, user: { id: user.id } },
    });
    log.info({ workspace, event: 'tokens_revoked' }, 'Slack user token forgotten');
  });
}

function singleWorkspaceUninstall(app: App, log: BoltLog): void {
  const warn = (ids: SlackIds, event: string) =>
    log.warn(
      { workspace: slackWorkspace(ids), event },
      'Slack app removed or its token revoked: SLACK_BOT_TOKEN no longer works until it is reinstalled',
    );
  app.event('app_uninstalled', async ({ context }) => warn(context, 'app_uninstalled'));
  app.event('tokens_revoked', async ({ event, context }) => {
    if ((event.tokens.bot ?? []).length > 0) warn(context, 'tokens_revoked');
  });
}

export function createBoltApp(o: BoltAppOptions): BoltApp {
  if (!o.botToken === !o.oauth) throw new Error('the Slack app needs either a bot token or OAuth, not both');
  const apiUrl = o.apiUrl ? (o.apiUrl.endsWith('/') ? o.apiUrl : `${o.apiUrl}/`) : undefined;
  const provider = o.oauth ? installer(o.oauth, apiUrl, o.log) : undefined;
  const routes = provider ? installRoutes(provider, o.log) : undefined;
  // HTTP: the receiver adds POST /slack/events to the install routes' router, so one router serves everything.
  const receiver = o.appToken
    ? undefined
    : new ExpressReceiver({
        signingSecret: o.signingSecret,
        endpoints: '/slack/events',
        logLevel: LogLevel.ERROR,
        ...(routes ? { router: routes } : {}),
      });
  // We mount only its router; its own Express app would advertise itself if it were ever started.
  receiver?.app.disable('x-powered-by');
  const app = new App({
    ...(provider ? { authorize: provider.authorize } : { token: o.botToken }),
    logLevel: LogLevel.ERROR,
    clientOptions: { ...o.clientOptions, ...(apiUrl ? { slackApiUrl: apiUrl } : {}) },
    ...(receiver ? { receiver } : { socketMode: true, appToken: o.appToken, signingSecret: o.signingSecret }),
    extendedErrorHandler: true,
  });
  if (o.oauth) forgetOnUninstall(app, o.oauth.installations, o.log);
  else singleWorkspaceUninstall(app, o.log);

  const oauth = o.oauth;
  return {
    app,
    ...(receiver ? { receiver } : {}),
    ...(routes && !receiver ? { installRouter: routes } : {}),
    async tokenFor(target) {
      if (!oauth) return o.botToken;
      const workspace = 'workspace' in target ? target.workspace : slackWorkspace(target);
      if (!workspace?.startsWith('slack:')) return undefined;
      const found = await oauth.installations.installation(workspace);
      const bot = found?.credentials.bot as { token?: unknown } | undefined;
      return typeof bot?.token === 'string' ? bot.token : undefined;
    },
  };
}
