// What the installing browser sees when Slack sends it back to /slack/oauth_redirect: a page saying the app is
// installed (and how to start), or why not, with a fitting status and a code. Bolt's own pages answer 500 for a code
// Slack refused and style themselves inline, which our Content-Security-Policy blocks.
import type { ServerResponse } from 'node:http';
import { isStoreUnavailable } from '@livevote/core';
import type { Installation } from '@slack/bolt';
import { type CallbackOptions, type CodedError, ErrorCode as OAuthError } from '@slack/oauth';
import { ErrorCode as WebApiError } from '@slack/web-api';
import { installationWorkspace } from './installation-store.ts';

export interface InstallFailure {
  status: number;
  code: string;
  message: string;
}

/** Slack's answers to oauth.v2.access that mean "this code is no good", not "livevote is misconfigured". */
const STALE_CODE = new Set(['invalid_code', 'code_already_used', 'code_expired', 'invalid_grant_type']);

export function explainInstallFailure(error: CodedError, url: URL): InstallFailure {
  const again = 'Start again from /slack/install.';
  if (url.searchParams.get('error') === 'access_denied')
    return { status: 400, code: 'access_denied', message: 'The installation was cancelled in Slack.' };
  if (error.code === OAuthError.MissingStateError || error.code === OAuthError.InvalidStateError)
    return {
      status: 400,
      code: 'invalid_state',
      message: `This install link has expired or was opened in another browser. ${again}`,
    };
  if (error.code === OAuthError.MissingCodeError)
    return { status: 400, code: 'missing_code', message: `Slack's answer carried no install code. ${again}` };
  if (error.code === WebApiError.PlatformError) {
    const slack = String((error as CodedError & { data?: { error?: unknown } }).data?.error ?? 'unknown');
    if (STALE_CODE.has(slack))
      return {
        status: 400,
        code: 'invalid_code',
        message: `Slack did not accept this install code (${slack}); it may have been used already. ${again}`,
      };
    return {
      status: 502,
      code: 'slack_refused',
      message: `Slack refused the installation (${slack}): check SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and the app's redirect URL.`,
    };
  }
  if (error.code === WebApiError.RequestError || error.code === WebApiError.HTTPError)
    return { status: 502, code: 'slack_unreachable', message: `livevote could not reach Slack. ${again}` };
  if (isStoreUnavailable(error))
    return {
      status: 503,
      code: 'store_unavailable',
      message: 'livevote cannot reach its database right now. Please try again in a minute.',
    };
  return {
    status: 500,
    code: 'install_failed',
    message: 'The installation failed on our side. Please try again.',
  };
}

const escapeHtml = (s: string) =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

function page(res: ServerResponse, status: number, title: string, paragraphs: string[]): void {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>` +
      `<body><main><h1>${escapeHtml(title)}</h1>${paragraphs.map((p) => `<p>${p}</p>`).join('')}</main></body></html>`,
  );
}

export interface InstallLog {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
}

export function installCallbacks(log: InstallLog): CallbackOptions {
  return {
    success(installation, _options, _req, res) {
      const i = installation as Installation;
      const where = i.isEnterpriseInstall
        ? (i.enterprise?.name ?? 'your organisation')
        : (i.team?.name ?? 'Slack');
      const open = i.isEnterpriseInstall
        ? i.enterpriseUrl
        : i.team
          ? `https://app.slack.com/client/${i.team.id}`
          : '';
      log.info({ workspace: installationWorkspace(i), installed_by: i.user?.id }, 'Slack app installed');
      page(res, 200, 'livevote is installed', [
        `livevote is installed in ${escapeHtml(where)}.`,
        'In a channel, start a poll with <code>/vote "Question" "A" "B"</code> or a lunch vote with <code>/lunch</code>.',
        ...(open ? [`<a href="${escapeHtml(open)}">Open Slack</a>`] : []),
      ]);
    },
    failure(error, _options, req, res) {
      const f = explainInstallFailure(error, new URL(req.url ?? '/', 'http://localhost'));
      // The error's own message may quote Slack's answer; it never holds a token (none was issued).
      log.warn(
        { code: f.code, error: error.code, detail: error.message, status: f.status },
        'Slack install failed',
      );
      page(res, f.status, 'livevote was not installed', [
        escapeHtml(f.message),
        `<small>Error code: <code>${escapeHtml(f.code)}</code></small>`,
      ]);
    },
  };
}
