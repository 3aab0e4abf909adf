import { storeError } from '@livevote/core';
import { describe, expect, it } from 'vitest';
import { explainInstallFailure } from './install-pages.ts';

const at = (query = '') => new URL(`https://vote.acme.test/slack/oauth_redirect${query}`);
const coded = (code: string, extra: object = {}) => Object.assign(new Error(code), { code }, extra);
const slackSaid = (error: string) => coded('slack_webapi_platform_error', { data: { ok: false, error } });

describe('explainInstallFailure', () => {
  it("answers 400 for what the person can fix by starting again: state, code, or a Cancel on Slack's page", () => {
    expect(explainInstallFailure(coded('slack_oauth_invalid_state'), at()).code).toBe('invalid_state');
    expect(explainInstallFailure(coded('slack_oauth_missing_state'), at()).code).toBe('invalid_state');
    expect(explainInstallFailure(coded('slack_oauth_missing_code'), at()).code).toBe('missing_code');
    for (const e of ['invalid_code', 'code_already_used', 'code_expired'])
      expect(explainInstallFailure(slackSaid(e), at())).toMatchObject({ status: 400, code: 'invalid_code' });
    expect(
      explainInstallFailure(coded('slack_oauth_installer_authorization_error'), at('?error=access_denied')),
    ).toMatchObject({ status: 400, code: 'access_denied' });
  });

  it('answers 502 naming the settings to check when Slack refuses our app credentials', () => {
    const f = explainInstallFailure(slackSaid('bad_client_secret'), at());
    expect(f).toMatchObject({ status: 502, code: 'slack_refused' });
    expect(f.message).toContain('bad_client_secret');
    expect(f.message).toContain('SLACK_CLIENT_SECRET');
    expect(explainInstallFailure(coded('slack_webapi_request_error'), at()).code).toBe('slack_unreachable');
  });

  it('answers 503 when the installation could not be stored because the database is down, 500 otherwise', () => {
    const down = storeError(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }));
    expect(explainInstallFailure(down as never, at())).toMatchObject({
      status: 503,
      code: 'store_unavailable',
    });
    expect(explainInstallFailure(coded('something_else'), at())).toMatchObject({
      status: 500,
      code: 'install_failed',
    });
  });
});
