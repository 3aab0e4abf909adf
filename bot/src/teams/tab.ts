// The live board as a configurable Teams tab (a channel or chat tab, a meeting's side panel or stage): a small
// configuration page that lists the tenant's polls and saves the chosen poll's board as the tab's content. The
// board itself is the web app's /board/<poll>, served by the realtime processes; the server lets Teams frame it
// wherever Teams is configured (server/src/start.ts, TEAMS_FRAME_ANCESTORS).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { type Core, teamsWorkspace } from '@livevote/core';
import type { PollListResponse } from '@livevote/core/protocol';
import express from 'express';
import { microsoftSigningKeys, type TabIdentity, verifyTabToken } from './tab-auth.ts';

export interface TabOptions {
  core: Pick<Core, 'polls'>;
  publicUrl: string;
  /** Set: the poll list needs a Teams SSO token for this app. Unset: only with allowUnauthenticated. */
  clientId?: string;
  /** Local development without a client id: the list takes the tenant from `?tenant=`. */
  allowUnauthenticated: boolean;
  /** Test seam: the public key a token was signed with (default: Microsoft's published keys). */
  signingKey?: (kid: string | undefined) => Promise<string>;
}

const error = (res: express.Response, status: number, code: string, message: string) =>
  void res.status(status).json({ error: { code, message } });

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>livevote board tab</title>
<link rel="stylesheet" href="/teams/tab/config.css">
<script src="/teams/tab/teams-js.js"></script>
<script src="/teams/tab/config.js" defer></script>
</head>
<body>
<main>
<h1>Show a live board</h1>
<p id="status" role="status">Loading your polls…</p>
<fieldset id="polls" hidden><legend>Poll</legend></fieldset>
</main>
</body>
</html>
`;

// Plain script (the CSP allows no inline script): lists the polls, and when one is picked, tells Teams the tab's content.
const SCRIPT = `(async () => {
  const status = document.getElementById('status');
  const list = document.getElementById('polls');
  const teams = window.microsoftTeams;
  let chosen = null;
  try {
    await teams.app.initialize();
    const context = await teams.app.getContext();
    const tenant = (context.user && context.user.tenant && context.user.tenant.id) || '';
    const headers = {};
    try {
      headers.authorization = 'Bearer ' + (await teams.authentication.getAuthToken());
    } catch (e) {
      // No single sign-on (local development): the server decides whether the tenant alone is enough.
    }
    const res = await fetch('/teams/tab/polls?tenant=' + encodeURIComponent(tenant), { headers });
    const body = await res.json();
    if (!res.ok) throw new Error((body.error && body.error.message) || 'The polls could not be listed.');
    if (body.polls.length === 0) {
      status.textContent = 'No polls in this organisation yet: say "lunch" or "poll Question; A; B" to livevote.';
      return;
    }
    status.textContent = 'Choose the poll whose board this tab shows.';
    list.hidden = false;
    for (const p of body.polls) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'radio';
      input.name = 'poll';
      input.value = p.id;
      input.addEventListener('change', () => {
        chosen = p;
        teams.pages.config.setValidityState(true);
      });
      label.append(input, ' ' + p.title + (p.status === 'closed' ? ' (closed)' : ''));
      list.append(label);
    }
    teams.pages.config.registerOnSaveHandler(async (save) => {
      if (!chosen) return save.notifyFailure('Choose a poll first.');
      const url = location.origin + '/board/' + encodeURIComponent(chosen.id);
      await teams.pages.config.setConfig({
        entityId: chosen.id,
        contentUrl: url,
        websiteUrl: url,
        suggestedDisplayName: chosen.title.slice(0, 100),
      });
      save.notifySuccess();
    });
  } catch (e) {
    status.textContent = e && e.message ? e.message : String(e);
  }
})();
`;

/** A default privacy statement and terms, for installs that have none of their own (TEAMS_PRIVACY_URL, TEAMS_TERMS_URL). */
const textPage = (title: string, paragraphs: string[]) => `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>livevote: ${title}</title><link rel="stylesheet" href="/teams/tab/config.css"></head>
<body><main><h1>${title}</h1>${paragraphs.map((p) => `<p>${p}</p>`).join('')}</main></body></html>
`;
const PRIVACY = textPage('Privacy', [
  'livevote is run by your organisation on its own server. It keeps the polls made in Teams, each vote with the Teams user id of the person who cast it (anonymous polls keep only a keyed hash, never who voted), the conversations the app was added to, and the Teams ids of people who used a poll card, so that the card can show each of them their own vote.',
  'Nothing is shared with anyone outside the organisation. Ask the administrator of this livevote server to see or remove your data.',
]);
const TERMS = textPage('Terms of use', [
  'livevote is provided by your organisation for deciding things together, such as where to have lunch. Use it as you would any other workplace tool; the administrator of this server may close or remove polls.',
]);

const STYLE = `body{font-family:"Segoe UI",system-ui,sans-serif;margin:1.5rem;color:#242424}
h1{font-size:1.25rem}fieldset{border:0;padding:0;display:grid;gap:.5rem}label{display:block;cursor:pointer}`;

export function teamsTab(o: TabOptions): express.Router {
  const r = express.Router();
  const host = new URL(o.publicUrl).hostname;
  const signingKey = o.signingKey ?? (o.clientId ? microsoftSigningKeys() : undefined);
  const teamsJs = readFileSync(
    createRequire(import.meta.url).resolve('@microsoft/teams-js/dist/umd/MicrosoftTeams.min.js'),
  );

  const send = (type: string, body: string | Buffer) => (_req: express.Request, res: express.Response) => {
    res.type(type).set('Cache-Control', 'no-cache').send(body);
  };
  r.get('/teams/tab/config', send('html', PAGE));
  r.get('/teams/tab/config.js', send('application/javascript', SCRIPT));
  r.get('/teams/tab/config.css', send('css', STYLE));
  r.get('/teams/tab/teams-js.js', send('application/javascript', teamsJs));
  r.get('/teams/privacy', send('html', PRIVACY));
  r.get('/teams/terms', send('html', TERMS));

  r.get('/teams/tab/polls', async (req, res, next) => {
    try {
      let who: Pick<TabIdentity, 'tenantId'> | null = null;
      if (o.clientId && signingKey) {
        const m = /^Bearer (\S+)$/.exec(req.get('authorization') ?? '');
        if (!m?.[1]) return error(res, 401, 'unauthorized', 'A Teams sign-on token is required.');
        who = await verifyTabToken(m[1], { clientId: o.clientId, publicHost: host, signingKey });
        if (!who)
          return error(res, 401, 'unauthorized', 'The Teams sign-on token is not valid for this app.');
      } else if (o.allowUnauthenticated) {
        const tenant = typeof req.query.tenant === 'string' ? req.query.tenant.trim() : '';
        if (!/^[\w-]{1,64}$/.test(tenant))
          return error(res, 400, 'invalid_tenant', 'Open this page from Teams (it names your organisation).');
        who = { tenantId: tenant };
      } else return error(res, 404, 'teams_disabled', 'The Teams app is off.');
      const workspace = teamsWorkspace(who.tenantId);
      if (!workspace) return error(res, 400, 'invalid_tenant', 'No organisation.');
      const polls = await o.core.polls.listPolls({ workspace, limit: 50 });
      res.set('Cache-Control', 'no-store');
      res.json({ polls } satisfies PollListResponse);
    } catch (err) {
      next(err);
    }
  });
  return r;
}
