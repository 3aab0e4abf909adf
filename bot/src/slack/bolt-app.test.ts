import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Installation, InstallationStore, StoredInstallation } from '@livevote/core';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { authorizeUrl, type BoltApp, createBoltApp } from './bolt-app.ts';
import { manifestBotScopes } from './manifest.ts';

/** The port's behaviour in memory: these tests are about Bolt's side (the SQL adapter has its own contract). */
class MemoryInstallations implements InstallationStore {
  readonly rows = new Map<string, StoredInstallation>();
  async saveInstallation(i: Installation) {
    const at = new Date().toISOString();
    this.rows.set(i.workspace, { ...structuredClone(i), installedAt: at, updatedAt: at });
  }
  async installation(workspace: string) {
    return this.rows.get(workspace) ?? null;
  }
  async deleteInstallation(workspace: string) {
    return this.rows.delete(workspace);
  }
  async resealInstallations() {
    return { resealed: 0, current: this.rows.size, unreadable: [] };
  }
}

const quiet = { info() {}, warn() {} };
const SECRET = 'signing-secret';

const slackInstall = (
  workspace: string,
  botToken: string,
  user?: { id: string; token?: string },
): Installation => ({
  workspace,
  platform: 'slack',
  installedBy: 'U0',
  credentials: {
    team: { id: workspace.slice(6) },
    bot: { token: botToken, userId: 'UBOT', id: 'B1', scopes: ['commands'] },
    user: user ?? { id: 'U0' },
    isEnterpriseInstall: workspace.startsWith('slack:E'),
  },
});

/** An Events API delivery, as Slack sends it (already verified: processEvent is what the receiver calls). */
const deliver = (bolt: BoltApp, body: Record<string, unknown>) =>
  bolt.app.processEvent({
    body: { type: 'event_callback', api_app_id: 'A1', event_id: 'Ev1', event_time: 1, ...body },
    ack: async () => {},
  });

describe('createBoltApp', () => {
  // Slack's Web API for the App's own start-up call (auth.test of a single bot token): always fine.
  let api: Server;
  let apiUrl: string;
  beforeAll(async () => {
    api = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"ok":true,"user_id":"UBOT","bot_id":"B1"}');
    });
    await new Promise<void>((r) => api.listen(0, '127.0.0.1', r));
    apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}/api`;
  });
  afterAll(() => new Promise((r) => api.close(r)));

  const oauthApp = (installations: InstallationStore, appToken?: string) =>
    createBoltApp({
      signingSecret: SECRET,
      oauth: {
        clientId: '1.2',
        clientSecret: 'client-secret',
        stateSecret: 's'.repeat(32),
        installations,
        publicUrl: 'https://vote.acme.test/',
      },
      apiUrl,
      ...(appToken ? { appToken } : {}),
      log: quiet,
    });

  it("puts Slack's authorize page beside its Web API", () => {
    expect(authorizeUrl()).toBe('https://slack.com/oauth/v2/authorize');
    expect(authorizeUrl('http://127.0.0.1:9/api/')).toBe('http://127.0.0.1:9/oauth/v2/authorize');
  });

  it('in socket mode serves the install routes on our own router (no receiver, no second port)', async () => {
    const bolt = oauthApp(new MemoryInstallations(), 'xapp-1-socket');
    expect(bolt.receiver).toBeUndefined();
    expect(bolt.installRouter).toBeDefined();
    const web = express().use(bolt.installRouter as express.Router);
    const server = await new Promise<Server>((r) => {
      const s = web.listen(0, '127.0.0.1', () => r(s));
    });
    try {
      const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/install`, {
        redirect: 'manual',
      });
      expect(res.status).toBe(302);
      const to = new URL(res.headers.get('location') ?? '');
      expect(`${to.origin}${to.pathname}`).toBe(authorizeUrl(`${apiUrl}/`));
      expect(to.searchParams.get('client_id')).toBe('1.2');
      expect(to.searchParams.get('scope')?.split(',')).toEqual(manifestBotScopes());
      expect(to.searchParams.get('redirect_uri')).toBe('https://vote.acme.test/slack/oauth_redirect');
      expect(res.headers.get('set-cookie')).toContain(
        `slack-app-oauth-state=${to.searchParams.get('state')}`,
      );
    } finally {
      server.close();
    }
  });

  it('over HTTP carries the install routes on the receiver router, beside POST /slack/events', () => {
    const bolt = oauthApp(new MemoryInstallations());
    expect(bolt.installRouter).toBeUndefined();
    const routes = (bolt.receiver?.router.stack ?? []).map((l) => l.route?.path);
    expect(routes).toEqual(
      expect.arrayContaining(['/slack/install', '/slack/oauth_redirect', '/slack/events']),
    );
  });

  it("tokenFor gives each workspace its own installation's bot token, and nothing for one without", async () => {
    const store = new MemoryInstallations();
    await store.saveInstallation(slackInstall('slack:T1', 'xoxb-t1'));
    await store.saveInstallation(slackInstall('slack:E1', 'xoxb-org'));
    const bolt = oauthApp(store);
    expect(await bolt.tokenFor({ teamId: 'T1' })).toBe('xoxb-t1');
    expect(await bolt.tokenFor({ workspace: 'slack:T1' })).toBe('xoxb-t1');
    // An org-wide install serves every team of the organisation.
    expect(await bolt.tokenFor({ teamId: 'T7', enterpriseId: 'E1', isEnterpriseInstall: true })).toBe(
      'xoxb-org',
    );
    expect(await bolt.tokenFor({ teamId: 'T2' })).toBeUndefined();
    expect(await bolt.tokenFor({ workspace: 'teams:tenant' })).toBeUndefined();
    expect(await bolt.tokenFor({})).toBeUndefined();
  });

  it('tokenFor with SLACK_BOT_TOKEN is that token; one of token and OAuth is required', async () => {
    const single = createBoltApp({ signingSecret: SECRET, botToken: 'xoxb-one', apiUrl, log: quiet });
    expect(await single.tokenFor({ teamId: 'T1' })).toBe('xoxb-one');
    expect(single.installRouter).toBeUndefined();
    expect(() => createBoltApp({ signingSecret: SECRET, log: quiet })).toThrow(/bot token or OAuth/);
  });

  it('a revoked bot token forgets that workspace only; a revoked user token only drops that token', async () => {
    const store = new MemoryInstallations();
    await store.saveInstallation(slackInstall('slack:T1', 'xoxb-t1'));
    await store.saveInstallation(slackInstall('slack:T2', 'xoxb-t2', { id: 'U9', token: 'xoxp-u9' }));
    const bolt = oauthApp(store);

    await deliver(bolt, { team_id: 'T2', event: { type: 'tokens_revoked', tokens: { oauth: ['U9'] } } });
    expect(store.rows.get('slack:T2')?.credentials).toMatchObject({
      bot: { token: 'xoxb-t2' },
      user: { id: 'U9' },
    });
    expect(JSON.stringify(store.rows.get('slack:T2'))).not.toContain('xoxp-u9');

    await deliver(bolt, {
      team_id: 'T1',
      event: { type: 'tokens_revoked', tokens: { oauth: [], bot: ['UBOT'] } },
    });
    expect([...store.rows.keys()]).toEqual(['slack:T2']);
    expect(await bolt.tokenFor({ teamId: 'T1' })).toBeUndefined();
  });

  it('app_uninstalled forgets the workspace it came from, an org-wide install included', async () => {
    const store = new MemoryInstallations();
    await store.saveInstallation(slackInstall('slack:T1', 'xoxb-t1'));
    await store.saveInstallation(slackInstall('slack:E1', 'xoxb-org'));
    const bolt = oauthApp(store);
    await deliver(bolt, {
      team_id: 'T5',
      enterprise_id: 'E1',
      authorizations: [{ team_id: null, enterprise_id: 'E1', is_enterprise_install: true, is_bot: true }],
      event: { type: 'app_uninstalled' },
    });
    expect([...store.rows.keys()]).toEqual(['slack:T1']);
    // Slack may deliver it twice: the second finds nothing and changes nothing.
    await deliver(bolt, { team_id: 'T1', event: { type: 'app_uninstalled' } });
    await deliver(bolt, { team_id: 'T1', event: { type: 'app_uninstalled' } });
    expect(store.rows.size).toBe(0);
  });
});
