import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig, startIssues } from './config.ts';

const fails = (env: Record<string, string>) => {
  try {
    parseConfig(env);
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error('expected a ConfigError');
};

describe('configuration', () => {
  it('defaults to the embedded demo on port 5000', () => {
    const c = parseConfig({});
    expect([c.PORT, c.ROLE, c.AUTH_MODE, c.embedded, c.PUBLIC_URL]).toEqual([
      5000,
      'all',
      'open',
      true,
      'http://localhost:5000',
    ]);
    expect(
      parseConfig({
        PUBLIC_URL: 'https://x.test/',
        DATABASE_URL: 'postgres://h/db',
        ANONYMITY_KEY: 'k'.repeat(32),
        ADMIN_TOKEN: 'an-admin-token-of-some-length',
        REDIS_URL: '',
      }),
    ).toMatchObject({
      PUBLIC_URL: 'https://x.test',
      embedded: false,
      REDIS_URL: undefined,
    });
  });

  it('stops on a bad value, naming the variable', () => {
    expect(fails({ PORT: 'abc' })).toContain('PORT');
    expect(fails({ PORT: '70000' })).toContain('PORT');
    expect(fails({ ROLE: 'web' })).toContain('ROLE');
    expect(fails({ DATABASE_URL: 'mysql://h/db' })).toContain('DATABASE_URL');
    expect(fails({ REDIS_URL: 'http://h' })).toContain('REDIS_URL');
    expect(fails({ AUTH_SECRET: 'short' })).toContain('AUTH_SECRET');
    expect(fails({ DATABASE_CAST_SLOTS: '0' })).toContain('DATABASE_CAST_SLOTS');
  });

  it('keeps one cast transaction in flight per instance unless DATABASE_CAST_SLOTS says otherwise', () => {
    expect(parseConfig({}).DATABASE_CAST_SLOTS).toBe(1);
    expect(parseConfig({ DATABASE_CAST_SLOTS: '4' }).DATABASE_CAST_SLOTS).toBe(4);
  });

  it('keeps idempotency keys 24 hours unless IDEMPOTENCY_TTL_HOURS says otherwise', () => {
    expect(parseConfig({}).idempotencyTtlMs).toBe(24 * 3_600_000);
    expect(parseConfig({ IDEMPOTENCY_TTL_HOURS: '72' }).idempotencyTtlMs).toBe(72 * 3_600_000);
    expect(fails({ IDEMPOTENCY_TTL_HOURS: '0' })).toContain('IDEMPOTENCY_TTL_HOURS');
    expect(fails({ IDEMPOTENCY_TTL_HOURS: '1.5' })).toContain('IDEMPOTENCY_TTL_HOURS');
  });

  it('turns abuse limits on with their defaults; TRUST_PROXY is off or a number of proxies', () => {
    const c = parseConfig({});
    expect([
      c.ABUSE_LIMITS,
      c.VOTE_LIMIT_PER_MINUTE,
      c.VOTE_LIMIT_BURST,
      c.WS_CONNECT_LIMIT_PER_MINUTE,
      c.POLL_CREATE_LIMIT_PER_MINUTE,
      c.TRUST_PROXY,
    ]).toEqual(['on', 30, 10, 1000, 30, 0]);
    expect(parseConfig({ ABUSE_LIMITS: 'off' }).ABUSE_LIMITS).toBe('off');
    expect(parseConfig({ TRUST_PROXY: 'off' }).TRUST_PROXY).toBe(0);
    expect(parseConfig({ TRUST_PROXY: '1' }).TRUST_PROXY).toBe(1);
    // `true` would mean "believe every hop", including the ones the client wrote: refused, not guessed.
    expect(fails({ TRUST_PROXY: 'true' })).toContain('TRUST_PROXY');
    expect(fails({ ABUSE_LIMITS: 'no' })).toContain('ABUSE_LIMITS');
    expect(fails({ VOTE_LIMIT_PER_MINUTE: '0' })).toContain('VOTE_LIMIT_PER_MINUTE');
    expect(fails({ WS_CONNECT_LIMIT_PER_MINUTE: 'many' })).toContain('WS_CONNECT_LIMIT_PER_MINUTE');
  });

  it('requires ANONYMITY_KEY (32+ characters) with DATABASE_URL, where several processes must share it', () => {
    expect(fails({ DATABASE_URL: 'postgres://h/db' })).toContain('ANONYMITY_KEY');
    expect(fails({ DATABASE_URL: 'postgres://h/db', ANONYMITY_KEY: 'k'.repeat(31) })).toContain(
      'ANONYMITY_KEY',
    );
    expect(fails({ ANONYMITY_KEY: 'short' })).toContain('ANONYMITY_KEY');
    // Embedded: one process, which keeps its own key in DATA_DIR (adapters.ts).
    expect(parseConfig({}).ANONYMITY_KEY).toBeUndefined();
  });

  it('requires ADMIN_TOKEN with DATABASE_URL: every process on one database must take the same admin token', () => {
    const shared = { DATABASE_URL: 'postgres://h/db', ANONYMITY_KEY: 'k'.repeat(32) };
    expect(startIssues(parseConfig(shared)).join()).toContain('ADMIN_TOKEN: is required with DATABASE_URL');
    expect(startIssues(parseConfig({ ...shared, ADMIN_TOKEN: 'an-admin-token-of-some-length' }))).toEqual([]);
    // Embedded: one process, which keeps its own token in DATA_DIR.
    expect(startIssues(parseConfig({}))).toEqual([]);
  });

  it('gives Postgres time limits, the client waiting longer than the server lets a statement run', () => {
    expect(parseConfig({})).toMatchObject({
      DATABASE_CONNECT_TIMEOUT_MS: 3_000,
      DATABASE_STATEMENT_TIMEOUT_MS: 4_000,
      DATABASE_QUERY_TIMEOUT_MS: 4_500,
      DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: 10_000,
    });
    expect(
      parseConfig({ DATABASE_STATEMENT_TIMEOUT_MS: '20000', DATABASE_QUERY_TIMEOUT_MS: '25000' }),
    ).toMatchObject({ DATABASE_STATEMENT_TIMEOUT_MS: 20_000, DATABASE_QUERY_TIMEOUT_MS: 25_000 });
    expect(fails({ DATABASE_STATEMENT_TIMEOUT_MS: '8000' })).toContain(
      'DATABASE_QUERY_TIMEOUT_MS: must be longer than DATABASE_STATEMENT_TIMEOUT_MS',
    );
    expect(fails({ DATABASE_CONNECT_TIMEOUT_MS: '0' })).toContain('DATABASE_CONNECT_TIMEOUT_MS');
  });

  it('lets nobody frame the pages unless FRAME_ANCESTORS lists https origins', () => {
    expect(parseConfig({}).FRAME_ANCESTORS).toEqual([]);
    expect(
      parseConfig({
        FRAME_ANCESTORS: 'https://teams.microsoft.com, https://*.teams.microsoft.com  https://x.test:8443',
      }).FRAME_ANCESTORS,
    ).toEqual(['https://teams.microsoft.com', 'https://*.teams.microsoft.com', 'https://x.test:8443']);
    for (const bad of [
      '*',
      'http://teams.microsoft.com',
      "https://x.test 'unsafe-inline'",
      'https://x.test/path',
      'https:',
    ])
      expect(fails({ FRAME_ANCESTORS: bad })).toContain('FRAME_ANCESTORS');
  });

  it('requires AUTH_SECRET and ADMIN_TOKEN in signed mode', () => {
    const msg = fails({ AUTH_MODE: 'signed' });
    expect(msg).toContain('AUTH_SECRET');
    expect(msg).toContain('ADMIN_TOKEN');
    expect(
      parseConfig({ AUTH_MODE: 'signed', AUTH_SECRET: 'x'.repeat(32), ADMIN_TOKEN: 'y'.repeat(16) })
        .AUTH_MODE,
    ).toBe('signed');
  });

  it('takes previous keys for a rotation as a comma-separated list, each as long as a key, beside the new key', () => {
    const c = parseConfig({
      AUTH_SECRET: 'a'.repeat(32),
      AUTH_SECRET_PREVIOUS: ` ${'b'.repeat(32)}, ${'c'.repeat(40)} ,`,
      ENCRYPTION_KEY: 'e'.repeat(32),
      ENCRYPTION_KEY_PREVIOUS: 'f'.repeat(32),
    });
    expect(c.AUTH_SECRET_PREVIOUS).toEqual(['b'.repeat(32), 'c'.repeat(40)]);
    expect(c.ENCRYPTION_KEY_PREVIOUS).toEqual(['f'.repeat(32)]);
    expect(parseConfig({}).ENCRYPTION_KEY_PREVIOUS).toEqual([]);
    expect(fails({ AUTH_SECRET: 'a'.repeat(32), AUTH_SECRET_PREVIOUS: `${'b'.repeat(32)},short` })).toContain(
      'AUTH_SECRET_PREVIOUS: must be a comma-separated list of keys, each at least 32 characters',
    );
    expect(fails({ ENCRYPTION_KEY_PREVIOUS: 'f'.repeat(32) })).toContain(
      'ENCRYPTION_KEY_PREVIOUS: needs ENCRYPTION_KEY',
    );
    expect(fails({ AUTH_SECRET_PREVIOUS: 'b'.repeat(32) })).toContain(
      'AUTH_SECRET_PREVIOUS: needs AUTH_SECRET',
    );
  });

  it('keeps the Teams endpoint unauthenticated only on request, and never in signed mode', () => {
    expect(parseConfig({}).TEAMS_ALLOW_UNAUTHENTICATED).toBe('false');
    expect(parseConfig({ TEAMS_ALLOW_UNAUTHENTICATED: 'true' }).TEAMS_ALLOW_UNAUTHENTICATED).toBe('true');
    const signed = { AUTH_MODE: 'signed', AUTH_SECRET: 'x'.repeat(32), ADMIN_TOKEN: 'y'.repeat(16) };
    expect(fails({ ...signed, TEAMS_ALLOW_UNAUTHENTICATED: 'true' })).toContain(
      'TEAMS_ALLOW_UNAUTHENTICATED: is refused when AUTH_MODE=signed',
    );
    expect(fails({ TEAMS_ALLOW_UNAUTHENTICATED: 'yes' })).toContain('TEAMS_ALLOW_UNAUTHENTICATED');
    expect(fails({ TEAMS_PRIVACY_URL: 'privacy.html' })).toContain('TEAMS_PRIVACY_URL');
  });

  describe('Slack OAuth install for many workspaces', () => {
    const oauth = {
      SLACK_SIGNING_SECRET: 'signing-secret',
      SLACK_CLIENT_ID: '111.222',
      SLACK_CLIENT_SECRET: 'client-secret',
      SLACK_STATE_SECRET: 's'.repeat(32),
      ENCRYPTION_KEY: 'e'.repeat(32),
    };

    it('is on with its three variables and ENCRYPTION_KEY, and off without them (SLACK_BOT_TOKEN mode)', () => {
      expect(parseConfig(oauth).slackOAuth).toEqual({
        clientId: '111.222',
        clientSecret: 'client-secret',
        stateSecret: 's'.repeat(32),
      });
      const single = parseConfig({ SLACK_SIGNING_SECRET: 'signing-secret', SLACK_BOT_TOKEN: 'xoxb-1' });
      expect(single.slackOAuth).toBeUndefined();
      expect(single.SLACK_BOT_TOKEN).toBe('xoxb-1');
    });

    it('stops on an http PUBLIC_URL for the OAuth install (its state cookie is Secure), except on this machine', () => {
      expect(fails({ ...oauth, PUBLIC_URL: 'http://vote.acme.test' })).toContain('PUBLIC_URL: must be https');
      expect(parseConfig({ ...oauth, PUBLIC_URL: 'https://vote.acme.test' }).slackOAuth).toBeDefined();
      expect(parseConfig({ ...oauth, PUBLIC_URL: 'http://localhost:5000' }).slackOAuth).toBeDefined();
    });

    it('stops on half a Slack app: a bot token without its signing secret, or the secret without a token', () => {
      expect(fails({ SLACK_BOT_TOKEN: 'xoxb-1' })).toContain(
        'SLACK_SIGNING_SECRET: is required with SLACK_BOT_TOKEN',
      );
      expect(fails({ SLACK_SIGNING_SECRET: 'signing-secret' })).toContain(
        'SLACK_BOT_TOKEN: is required with SLACK_SIGNING_SECRET',
      );
      // Empty values (compose's ${SLACK_BOT_TOKEN:-}) are unset: Slack simply off.
      expect(parseConfig({ SLACK_BOT_TOKEN: '', SLACK_SIGNING_SECRET: '' }).SLACK_BOT_TOKEN).toBeUndefined();
    });

    it('stops without ENCRYPTION_KEY, or with one shorter than 32 characters, saying what it is for', () => {
      const { ENCRYPTION_KEY: _, ...noKey } = oauth;
      const missing = fails(noKey);
      expect(missing).toContain('ENCRYPTION_KEY: is required with SLACK_CLIENT_ID');
      expect(missing).toContain('encrypts the stored bot tokens');
      expect(fails({ ...oauth, ENCRYPTION_KEY: 'e'.repeat(31) })).toContain(
        'ENCRYPTION_KEY: must be at least 32 characters',
      );
      expect(fails({ ...oauth, ENCRYPTION_KEY: '   ' })).toContain('ENCRYPTION_KEY: is required');
    });

    it('names each missing OAuth variable, and the signing secret', () => {
      const msg = fails({ SLACK_CLIENT_ID: '111.222', ENCRYPTION_KEY: 'e'.repeat(32) });
      for (const name of ['SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET', 'SLACK_SIGNING_SECRET'])
        expect(msg).toContain(`${name}: is required with SLACK_CLIENT_ID`);
      expect(fails({ ...oauth, SLACK_STATE_SECRET: 'short' })).toContain(
        'SLACK_STATE_SECRET: must be at least 32 characters',
      );
    });

    it("refuses SLACK_BOT_TOKEN beside OAuth: one workspace's token must not answer the others", () => {
      expect(fails({ ...oauth, SLACK_BOT_TOKEN: 'xoxb-1' })).toContain('SLACK_BOT_TOKEN: must be unset');
    });

    it('accepts ENCRYPTION_KEY alone (nothing to encrypt yet) but still checks its length', () => {
      expect(parseConfig({ ENCRYPTION_KEY: 'e'.repeat(32) }).slackOAuth).toBeUndefined();
      expect(fails({ ENCRYPTION_KEY: 'short' })).toContain('ENCRYPTION_KEY');
    });
  });
});
