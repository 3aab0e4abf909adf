// A local stand-in for Slack's Web API: records every call (method, parsed body, time) and answers like Slack.
// Tests can make chat.update answer 429 with a Retry-After. OAuth like Slack's: an authorize page that sends the
// browser back with a one-time code, `oauth.v2.access` exchanging it for a workspace's bot token; once a test has
// tokens (installed or registered), every call must carry a live one (HTTP 200 `invalid_auth` otherwise).
// Like Slack it keeps the messages it was given: `chat.update`, `chat.delete` and `pins.add` of a ts it never
// posted (or deleted) answer `message_not_found`, a second pin `already_pinned`; in a channel the bot was never
// invited to (`notMember`) it posts (chat:write.public) but neither pins nor posts ephemerals (`not_in_channel`:
// the app answers a click through its response_url instead); and it checks Block
// Kit as Slack does (sizes, counts, required parts): `invalid_blocks` / `msg_too_long` for a message,
// `invalid_arguments` for a modal, with Slack's `[ERROR] … [json-pointer:…]` messages.
import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { messageRefusal, viewRefusal } from '@livevote/bot/testing';

export interface SlackCall {
  method: string;
  body: Record<string, unknown>;
  at: number;
  status: number;
  /** What the fake answered (chat.postMessage: the new message's ts). */
  answer: Record<string, unknown>;
  /** The bearer token the call carried (Authorization header, or a `token` field). */
  token?: string;
}

/** A workspace (team) a test installs the app in. */
export interface FakeTeam {
  id: string;
  name: string;
}

interface Grant {
  team: FakeTeam;
  user: string;
  redirectUri?: string;
  used: boolean;
}

interface IssuedToken {
  team: string;
  botUserId: string;
  revoked: boolean;
}

export class FakeSlack {
  readonly calls: SlackCall[] = [];
  private server?: Server;
  private ts = 1_700_000_000;
  /** The next N chat.update calls answer 429 with this Retry-After (seconds). */
  rateLimit = { next: 0, retryAfter: 1 };
  /** The next N calls of a method (other than chat.update's `rateLimit`) answer HTTP 429 with this Retry-After. */
  readonly throttled = new Map<string, { next: number; retryAfter: number }>();
  /** Users `users.info` calls workspace admins (every other user is a plain member). */
  readonly admins = new Set<string>();
  /** Messages Slack holds, by channel and ts, and whether each is pinned. */
  private readonly messages = new Map<string, Map<string, { pinned: boolean }>>();
  /** Public channels the bot was never invited to: it posts there (chat:write.public) but cannot pin. */
  readonly notMember = new Set<string>();
  /** Scripted errors, answered as Slack does: HTTP 200 with `{ok: false, error}`. */
  private readonly failures: { method: string; error: string; channel?: string; times: number }[] = [];

  /** `method` (on `channel`, if named) answers `{ok: false, error}` for the next `times` calls (default: always). */
  fail(method: string, error: string, o: { channel?: string; times?: number } = {}): void {
    this.failures.push({ method, error, times: o.times ?? Number.POSITIVE_INFINITY, ...o });
  }

  /** A message a test placed in the channel itself (Slack answers updates of any other ts `message_not_found`). */
  knowMessage(channel: string, ts: string): void {
    this.held(channel).set(ts, { pinned: false });
  }

  private held(channel: string): Map<string, { pinned: boolean }> {
    const m = this.messages.get(channel) ?? new Map<string, { pinned: boolean }>();
    this.messages.set(channel, m);
    return m;
  }

  /** Someone deleted the message in Slack: from now on its updates and pins answer `message_not_found`. */
  deleteMessage(channel: string, ts: string): void {
    this.messages.get(channel)?.delete(ts);
  }

  /** Whether Slack holds this message and it is pinned. */
  pinned(channel: string, ts: string): boolean {
    return this.messages.get(channel)?.get(ts)?.pinned === true;
  }

  /** What Slack answers a message method before doing it: the body's Block Kit, then the message's existence. */
  private checked(method: string, body: Record<string, unknown>): Record<string, unknown> | null {
    if (['chat.postMessage', 'chat.update', 'chat.postEphemeral'].includes(method)) {
      const refused = messageRefusal(body);
      if (refused) return refused;
    }
    if (['views.open', 'views.update', 'views.push'].includes(method)) return viewRefusal(body.view);
    // Ephemerals, like pins, need the bot in the channel (chat:write.public covers chat.postMessage only).
    if (method === 'chat.postEphemeral' && this.notMember.has(String(body.channel ?? '')))
      return { ok: false, error: 'not_in_channel' };
    if (!['chat.update', 'chat.delete', 'pins.add'].includes(method)) return null;
    const channel = String(body.channel ?? '');
    const message = this.messages.get(channel)?.get(String(method === 'pins.add' ? body.timestamp : body.ts));
    if (!message) return { ok: false, error: 'message_not_found' };
    if (method === 'pins.add' && this.notMember.has(channel)) return { ok: false, error: 'not_in_channel' };
    if (method === 'pins.add' && message.pinned) return { ok: false, error: 'already_pinned' };
    return null;
  }

  /** What a call Slack accepted changes in the messages it holds. */
  private apply(method: string, body: Record<string, unknown>, answer: Record<string, unknown>): void {
    const channel = String(body.channel ?? '');
    if (method === 'chat.postMessage') this.held(channel).set(String(answer.ts), { pinned: false });
    if (method === 'chat.delete') this.messages.get(channel)?.delete(String(body.ts));
    const pinned =
      method === 'pins.add' ? this.messages.get(channel)?.get(String(body.timestamp)) : undefined;
    if (pinned) pinned.pinned = true;
  }

  private scripted(method: string, body: Record<string, unknown>): string | undefined {
    const f = this.failures.find(
      (x) => x.method === method && x.times > 0 && (x.channel === undefined || x.channel === body.channel),
    );
    if (!f) return undefined;
    f.times--;
    return f.error;
  }
  url = '';
  /** The Slack app's credentials, as `oauth.v2.access` checks them. */
  oauthApp = { clientId: '1111.2222', clientSecret: 'fake-client-secret' };
  /** The workspace the next visit to the authorize page installs into (the person picked it and clicked Allow). */
  nextInstall?: FakeTeam;
  /** Bot tokens Slack issued (or a test registered): once there is one, every call needs a live token. */
  readonly tokens = new Map<string, IssuedToken>();
  private readonly grants = new Map<string, Grant>();
  private seq = 0;

  /** A one-time install code for `team`, as Slack puts on the redirect after the person allows the install. */
  grantCode(team: FakeTeam, redirectUri?: string, user = 'U0INSTALLER'): string {
    const code = `code-${team.id}-${++this.seq}`;
    this.grants.set(code, { team, user, ...(redirectUri ? { redirectUri } : {}), used: false });
    return code;
  }

  /** A token Slack knows (e.g. SLACK_BOT_TOKEN's), for tests that check tokens without an install. */
  registerToken(token: string, team: string, botUserId = 'UBOT'): void {
    this.tokens.set(token, { team, botUserId, revoked: false });
  }

  /** The app was removed or the token revoked: Slack refuses it from now on. */
  revoke(token: string): void {
    const t = this.tokens.get(token);
    if (t) t.revoked = true;
  }

  /** The live bot token Slack issued for a team (the newest). */
  tokenOf(team: string): string | undefined {
    return [...this.tokens].filter(([, t]) => t.team === team && !t.revoked).at(-1)?.[0];
  }

  /** Slack's authorize page: the person allows the install, and the browser goes back with a code and the state. */
  private authorize(query: URLSearchParams): { status: number; location?: string; body: string } {
    if (query.get('client_id') !== this.oauthApp.clientId) return { status: 400, body: 'invalid_client_id' };
    if (!this.nextInstall) return { status: 400, body: 'no workspace chosen (set FakeSlack.nextInstall)' };
    const redirect = query.get('redirect_uri');
    if (!redirect) return { status: 400, body: 'redirect_uri missing (the app has one configured)' };
    const back = new URL(redirect);
    back.searchParams.set('code', this.grantCode(this.nextInstall, redirect));
    const state = query.get('state');
    if (state) back.searchParams.set('state', state);
    return { status: 302, location: back.toString(), body: '' };
  }

  /** oauth.v2.access as Slack answers it: HTTP 200 either way, a bot token for a good code. */
  private exchange(body: Record<string, unknown>): Record<string, unknown> {
    if (body.client_id !== this.oauthApp.clientId) return { ok: false, error: 'invalid_client_id' };
    if (body.client_secret !== this.oauthApp.clientSecret) return { ok: false, error: 'bad_client_secret' };
    const grant = this.grants.get(String(body.code ?? ''));
    if (!grant) return { ok: false, error: 'invalid_code' };
    if (grant.used) return { ok: false, error: 'code_already_used' };
    if (grant.redirectUri && body.redirect_uri !== grant.redirectUri)
      return { ok: false, error: 'bad_redirect_uri' };
    grant.used = true;
    const token = `xoxb-${grant.team.id}-${++this.seq}-${Math.random().toString(36).slice(2, 12)}`;
    const botUserId = `UB${grant.team.id}`;
    this.tokens.set(token, { team: grant.team.id, botUserId, revoked: false });
    return {
      ok: true,
      access_token: token,
      token_type: 'bot',
      scope: 'commands,chat:write,chat:write.public,pins:write',
      bot_user_id: botUserId,
      app_id: 'A0LIVEVOTE',
      team: { id: grant.team.id, name: grant.team.name },
      enterprise: null,
      authed_user: { id: grant.user },
      is_enterprise_install: false,
    };
  }

  /** Slack's check of a call's token, once the test has tokens: HTTP 200 with an error for a missing or dead one. */
  private refusal(method: string, token: string | undefined): Record<string, unknown> | null {
    if (this.tokens.size === 0 || method === 'oauth.v2.access') return null;
    if (!token) return { ok: false, error: 'not_authed' };
    const t = this.tokens.get(token);
    return !t || t.revoked ? { ok: false, error: 'invalid_auth' } : null;
  }

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      let raw = '';
      req.on('data', (d) => {
        raw += d;
      });
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://fake');
        if (url.pathname === '/oauth/v2/authorize') {
          const page = this.authorize(url.searchParams);
          this.calls.push({
            method: 'oauth/v2/authorize',
            body: Object.fromEntries(url.searchParams),
            at: Date.now(),
            status: page.status,
            answer: {},
          });
          res.writeHead(
            page.status,
            page.location ? { location: page.location } : { 'content-type': 'text/plain' },
          );
          res.end(page.body);
          return;
        }
        const method = (req.url ?? '').replace(/^\/api\//, '').split('?')[0] ?? '';
        const body: Record<string, unknown> = {};
        if ((req.headers['content-type'] ?? '').includes('json'))
          Object.assign(body, JSON.parse(raw || '{}'));
        else {
          for (const [k, v] of new URLSearchParams(raw)) {
            try {
              body[k] = /^[[{]/.test(v) ? JSON.parse(v) : v;
            } catch {
              body[k] = v;
            }
          }
        }
        const auth = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
        const token = auth ?? (typeof body.token === 'string' ? body.token : undefined);
        let status = 200;
        let answer: Record<string, unknown> = { ok: true };
        const refused = this.refusal(method, token);
        const issued = token ? this.tokens.get(token) : undefined;
        const error = this.scripted(method, body);
        const throttle = this.throttled.get(method);
        const checked = this.checked(method, body);
        if (refused) {
          answer = refused;
        } else if (throttle && throttle.next > 0) {
          throttle.next--;
          status = 429;
          res.setHeader('Retry-After', String(throttle.retryAfter));
          answer = { ok: false, error: 'ratelimited' };
        } else if (error) {
          answer = { ok: false, error };
        } else if (method === 'oauth.v2.access') {
          answer = this.exchange(body);
        } else if (method === 'auth.test' && issued) {
          answer = {
            ok: true,
            url: `https://${issued.team.toLowerCase()}.slack.test/`,
            team: issued.team,
            user: 'livevote',
            team_id: issued.team,
            user_id: issued.botUserId,
            bot_id: `B${issued.team}`,
            is_enterprise_install: false,
          };
        } else if (method === 'chat.update' && this.rateLimit.next > 0) {
          this.rateLimit.next--;
          status = 429;
          res.setHeader('Retry-After', String(this.rateLimit.retryAfter));
          answer = { ok: false, error: 'ratelimited' };
        } else if (checked) {
          answer = checked;
        } else if (method === 'users.info') {
          const id = String(body.user);
          answer = {
            ok: true,
            user: { id, tz: 'Asia/Seoul', deleted: false, is_admin: this.admins.has(id), is_owner: false },
          };
        } else if (method === 'chat.postMessage') {
          answer = { ok: true, channel: body.channel, ts: `${++this.ts}.000100` };
        } else if (method === 'chat.update') {
          answer = { ok: true, channel: body.channel, ts: body.ts };
        }
        if (status === 200 && answer.ok === true) this.apply(method, body, answer);
        this.calls.push({ method, body, at: Date.now(), status, answer, ...(token ? { token } : {}) });
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(answer));
      });
    });
    const server = this.server;
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/`;
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise((r) => this.server?.close(r));
  }

  of(method: string, status = 200): SlackCall[] {
    return this.calls.filter((c) => c.method === method && c.status === status);
  }
}

/** Signs a request body the way Slack does (v0 scheme). */
export function slackHeaders(
  secret: string,
  body: string,
  timestamp = Math.floor(Date.now() / 1000),
): Record<string, string> {
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': signature };
}
