// The Slack app installed in many workspaces through OAuth, end to end and offline: the browser's trip through
// /slack/install, Slack's authorize page and /slack/oauth_redirect (a fake Slack issuing codes and tokens and checking
// every call's token), installations sealed in a real Postgres, and each workspace answered with its own token.
import { readFileSync } from 'node:fs';
import { createTestDatabase, TEST_ANONYMITY_KEY, type TestDatabase } from '@livevote/core/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booted, boot } from '../boot.ts';
import { FakeSlack, type FakeTeam } from './fake-slack.ts';
import { slackRequests } from './slack-requests.ts';

const SECRET = 'slack-signing-secret-for-oauth';
const PUBLIC = 'https://lunch.example.test';
const STATE_COOKIE = 'slack-app-oauth-state';

const manifestScopes = (): string[] => {
  const text = readFileSync(new URL('../../manifests/slack/manifest.yaml', import.meta.url), 'utf8');
  const bot = text.slice(text.indexOf('    bot:'), text.indexOf('\nsettings:'));
  return [...bot.matchAll(/^\s+- ([a-z:._]+)$/gm)].map((m) => m[1] as string);
};

const oauthEnv = (slack: FakeSlack) => ({
  SLACK_SIGNING_SECRET: SECRET,
  SLACK_CLIENT_ID: slack.oauthApp.clientId,
  SLACK_CLIENT_SECRET: slack.oauthApp.clientSecret,
  SLACK_STATE_SECRET: 'a-state-secret-of-at-least-32-characters',
  SLACK_API_URL: slack.url,
});

describe('Slack OAuth install for many workspaces', () => {
  const slack = new FakeSlack();
  let db: TestDatabase;
  let pool: pg.Pool;
  let app: Booted;
  let base: string;
  let chat: ReturnType<typeof slackRequests>;
  const second: FakeTeam = { id: 'T2', name: 'Second Floor' };
  const third: FakeTeam = { id: 'T3', name: 'Third & Fourth' };

  /** The browser starting an install: our redirect to Slack, and the state cookie that goes with it. */
  async function startInstall(): Promise<{ authorize: URL; cookie: string }> {
    const res = await fetch(`${base}/slack/install`, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0] ?? '';
    expect(cookie.startsWith(`${STATE_COOKIE}=`)).toBe(true);
    return { authorize: new URL(res.headers.get('location') ?? ''), cookie };
  }

  /** Slack's authorize page (the person allows the install in `team`): where it sends the browser back. */
  async function allow(authorize: URL, team: FakeTeam): Promise<URL> {
    slack.nextInstall = team;
    const res = await fetch(authorize, { redirect: 'manual' });
    expect(res.status).toBe(302);
    const back = new URL(res.headers.get('location') ?? '');
    expect(`${back.origin}${back.pathname}`).toBe(`${PUBLIC}/slack/oauth_redirect`);
    return back;
  }

  /** PUBLIC_URL is a name only the test knows: the browser's request to it goes to the booted process. */
  const redirect = (back: URL, cookie?: string) =>
    fetch(`${base}${back.pathname}${back.search}`, { headers: cookie ? { cookie } : {} });

  async function install(team: FakeTeam): Promise<Response> {
    const { authorize, cookie } = await startInstall();
    return redirect(await allow(authorize, team), cookie);
  }

  const rows = async () =>
    (await pool.query('select * from installations order by workspace')).rows as Record<string, unknown>[];

  /** A /vote from a team; the fake's chat.postMessage call that answered it, if any. */
  async function vote(team: string, question: string) {
    const res = await chat.command('/vote', `"${question}" "Pizza" "Sushi"`, 'U7', team, `C${team}`);
    const posted = () =>
      slack.calls.find((c) => c.method === 'chat.postMessage' && JSON.stringify(c.body).includes(question));
    return { res, posted };
  }

  beforeAll(async () => {
    await slack.start();
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    app = await boot({
      ...oauthEnv(slack),
      ENCRYPTION_KEY: 'an-encryption-key-for-the-oauth-e2e-test',
      DATABASE_URL: db.url,
      ADMIN_TOKEN: 'an-e2e-admin-token-0123456789',
      ANONYMITY_KEY: TEST_ANONYMITY_KEY,
    });
    base = app.base;
    chat = slackRequests(base, SECRET, slack.url);
  }, 120_000);

  afterAll(async () => {
    // A command's work goes on after its ack (pinning, tracking the message): let it land before stopping.
    const posted = slack.calls.filter((c) => c.method === 'chat.postMessage' && c.answer.ok).length;
    for (let i = 0; i < 200; i++) {
      const { rows } = await pool.query('select count(*)::int as n from chat_messages');
      if (rows[0].n >= posted) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    await app?.stop();
    await pool?.end();
    await db?.drop();
    await slack.stop();
  });

  it("/slack/install sends the browser to Slack's authorize page with our client id, the manifest's scopes and our redirect", async () => {
    const { authorize, cookie } = await startInstall();
    expect(authorize.origin).toBe(new URL(slack.url).origin);
    expect(authorize.pathname).toBe('/oauth/v2/authorize');
    expect(authorize.searchParams.get('client_id')).toBe(slack.oauthApp.clientId);
    expect(authorize.searchParams.get('scope')?.split(',')).toEqual(manifestScopes());
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${PUBLIC}/slack/oauth_redirect`);
    // The state Slack hands back must match this browser's cookie.
    expect(authorize.searchParams.get('state')).toBe(cookie.slice(STATE_COOKIE.length + 1));
  });

  it('the redirect exchanges the code on SLACK_API_URL and keeps the installation, its token encrypted', async () => {
    const res = await install(second);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('livevote is installed in Second Floor');
    const exchange = slack.calls.filter((c) => c.method === 'oauth.v2.access');
    expect(exchange).toHaveLength(1);
    expect(exchange[0]?.body).toMatchObject({
      client_id: slack.oauthApp.clientId,
      client_secret: slack.oauthApp.clientSecret,
      redirect_uri: `${PUBLIC}/slack/oauth_redirect`,
    });
    expect(exchange[0]?.answer.ok).toBe(true);
    const token = slack.tokenOf('T2') ?? '';
    expect(token).toMatch(/^xoxb-/);
    const stored = await rows();
    expect(stored.map((r) => [r.workspace, r.platform, r.installed_by])).toEqual([
      ['slack:T2', 'slack', 'U0INSTALLER'],
    ]);
    const raw = JSON.stringify(stored);
    expect(raw).not.toContain(token);
    expect(raw).not.toContain('xoxb');
  });

  it("a signed /vote from the new workspace is answered with that workspace's own token", async () => {
    const { res, posted } = await vote('T2', 'Lunch on the second floor?');
    expect(res.status).toBe(200);
    await expect.poll(() => posted()?.answer.ok).toBe(true);
    expect(posted()?.token).toBe(slack.tokenOf('T2'));
  });

  it('a second workspace installs too, and each is answered with its own token', async () => {
    expect((await install(third)).status).toBe(200);
    expect((await rows()).map((r) => r.workspace)).toEqual(['slack:T2', 'slack:T3']);
    const [two, three] = [await vote('T2', 'Second floor again?'), await vote('T3', 'Third floor?')];
    await expect.poll(() => [two.posted()?.answer.ok, three.posted()?.answer.ok]).toEqual([true, true]);
    expect(two.posted()?.token).toBe(slack.tokenOf('T2'));
    expect(three.posted()?.token).toBe(slack.tokenOf('T3'));
    expect(slack.tokenOf('T2')).not.toBe(slack.tokenOf('T3'));
  });

  it('a redirect without its browser, with a bad code, replayed or cancelled is refused clearly and stores nothing', async () => {
    const before = JSON.stringify(await rows());
    const exchanges = () => slack.calls.filter((c) => c.method === 'oauth.v2.access').length;

    // Slack's redirect opened in another browser (no state cookie): refused before any code is exchanged.
    const { authorize, cookie } = await startInstall();
    const back = await allow(authorize, { id: 'T9', name: 'Nine' });
    const n = exchanges();
    const noCookie = await redirect(back);
    expect(noCookie.status).toBe(400);
    expect(await noCookie.text()).toContain('invalid_state');
    // … or with another install's cookie.
    const other = await startInstall();
    const wrongCookie = await redirect(back, other.cookie);
    expect(wrongCookie.status).toBe(400);
    expect(exchanges()).toBe(n);

    // A code Slack never issued: Slack answers HTTP 200 `invalid_code`, we answer 400 with that code.
    const forged = new URL(back);
    forged.searchParams.set('code', 'code-made-up');
    const bad = await redirect(forged, cookie);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain('invalid_code');
    const refusal = slack.calls.filter((c) => c.method === 'oauth.v2.access').at(-1);
    expect([refusal?.status, refusal?.answer]).toEqual([200, { ok: false, error: 'invalid_code' }]);

    // The person pressed Cancel on Slack's page.
    const cancelled = new URL(`${PUBLIC}/slack/oauth_redirect`);
    cancelled.searchParams.set('error', 'access_denied');
    cancelled.searchParams.set('state', back.searchParams.get('state') ?? '');
    const cancel = await redirect(cancelled, cookie);
    expect(cancel.status).toBe(400);
    expect(await cancel.text()).toContain('access_denied');

    expect(JSON.stringify(await rows())).toBe(before);

    // The real redirect still installs; replaying it afterwards changes nothing (Slack: the code is used up).
    expect((await redirect(back, cookie)).status).toBe(200);
    const nine = JSON.stringify((await rows()).find((r) => r.workspace === 'slack:T9'));
    const replay = await redirect(back, cookie);
    expect(replay.status).toBe(400);
    expect(await replay.text()).toContain('invalid_code');
    expect(JSON.stringify((await rows()).find((r) => r.workspace === 'slack:T9'))).toBe(nine);
  });

  it('tokens_revoked forgets the workspace: its requests are refused and the other workspaces go on', async () => {
    const revoked = slack.tokenOf('T2') ?? '';
    slack.revoke(revoked); // Slack refuses the old token from now on (HTTP 200 invalid_auth), then tells us
    const res = await chat.event('T2', { type: 'tokens_revoked', tokens: { oauth: [], bot: ['UBT2'] } });
    expect(res.status).toBe(200);
    await expect.poll(async () => (await rows()).map((r) => r.workspace)).not.toContain('slack:T2');

    const gone = await vote('T2', 'Anyone left on two?');
    expect(gone.res.status).toBe(401); // Bolt finds no installation for the team
    const still = await vote('T3', 'Third floor still?');
    await expect.poll(() => still.posted()?.answer.ok).toBe(true);
    expect(still.posted()?.token).toBe(slack.tokenOf('T3'));
    expect(gone.posted()).toBeUndefined();
    // Nothing was sent with the dead token after the revocation.
    const deadCalls = slack.calls.filter((c) => c.token === revoked && c.answer.error === 'invalid_auth');
    expect(deadCalls).toEqual([]);
  });

  it('app_uninstalled forgets the workspace too, and installing again brings a new token that works', async () => {
    const old = slack.tokenOf('T3') ?? '';
    slack.revoke(old);
    expect((await chat.event('T3', { type: 'app_uninstalled' })).status).toBe(200);
    await expect.poll(async () => (await rows()).map((r) => r.workspace)).not.toContain('slack:T3');
    expect((await vote('T3', 'Is anyone on three?')).res.status).toBe(401);

    expect((await install(third)).status).toBe(200);
    const fresh = slack.tokenOf('T3');
    expect(fresh).not.toBe(old);
    const back = await vote('T3', 'Three is back?');
    await expect.poll(() => back.posted()?.answer.ok).toBe(true);
    expect(back.posted()?.token).toBe(fresh);
  });
});

describe('Slack OAuth configuration', () => {
  const slack = new FakeSlack();
  beforeAll(() => slack.start());
  afterAll(() => slack.stop());

  it('does not start without a usable ENCRYPTION_KEY, and says which variable and why', async () => {
    await expect(boot(oauthEnv(slack))).rejects.toThrow(/ENCRYPTION_KEY: is required with SLACK_CLIENT_ID/);
    await expect(boot({ ...oauthEnv(slack), ENCRYPTION_KEY: 'too-short' })).rejects.toThrow(
      /ENCRYPTION_KEY: must be at least 32 characters/,
    );
  });
});

describe('Slack without the OAuth variables', () => {
  const slack = new FakeSlack();
  let app: Booted;
  beforeAll(async () => {
    await slack.start();
    app = await boot({
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-single',
      SLACK_API_URL: slack.url,
    });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await slack.stop();
  });

  it('runs one workspace on SLACK_BOT_TOKEN, as before, with no install routes', async () => {
    expect((await fetch(`${app.base}/slack/install`, { redirect: 'manual' })).status).toBe(404);
    expect((await fetch(`${app.base}/slack/oauth_redirect?code=x&state=y`)).status).toBe(404);
    const res = await slackRequests(app.base, SECRET, slack.url).command('/vote', '"Single?" "Yes" "No"');
    expect(res.status).toBe(200);
    await expect
      .poll(
        () =>
          slack.calls.find(
            (c) => c.method === 'chat.postMessage' && JSON.stringify(c.body).includes('Single?'),
          )?.token,
      )
      .toBe('xoxb-single');
  });
});
