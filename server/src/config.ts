// The one place that reads process.env: every setting parsed once at start; a bad value stops start-up naming it.
import { ANONYMITY_KEY_MIN_LENGTH, ENCRYPTION_KEY_MIN_LENGTH } from '@livevote/core';
import { z } from 'zod';

const optional = z
  .string()
  .transform((s) => s.trim())
  .optional()
  .transform((s) => (s === '' ? undefined : s));
const url = (protocols: string[]) =>
  optional.refine((s) => s === undefined || (URL.canParse(s) && protocols.includes(new URL(s).protocol)), {
    message: `must be a URL (${protocols.join(' or ')})`,
  });
const int = (def: number, min: number, max: number) =>
  z
    .string()
    .optional()
    .transform((s) => (s === undefined || s.trim() === '' ? String(def) : s.trim()))
    .pipe(z.string().regex(/^\d+$/, 'must be a whole number'))
    .transform(Number)
    .pipe(z.number().int().min(min).max(max));

/** A comma-separated list of secrets, each at least `min` characters (a previous key kept during a rotation). */
const secretList = (min: number) =>
  optional
    .transform((s) =>
      s === undefined
        ? []
        : s
            .split(',')
            .map((k) => k.trim())
            .filter((k) => k !== ''),
    )
    .refine((keys) => keys.every((k) => k.length >= min), {
      message: `must be a comma-separated list of keys, each at least ${min} characters`,
    });

const FRAME_ANCESTOR = /^('self'|https:\/\/(\*\.)?[a-z0-9-]+(\.[a-z0-9-]+)*(:\d{1,5})?)$/i;

const SLACK_OAUTH = ['SLACK_CLIENT_ID', 'SLACK_CLIENT_SECRET', 'SLACK_STATE_SECRET'] as const;

/**
 * Slack OAuth needs its three variables together, a signing secret, and ENCRYPTION_KEY for the tokens it stores; it
 * replaces SLACK_BOT_TOKEN's one workspace (Bolt takes one or the other, and a fixed token would answer every
 * workspace with one workspace's identity).
 */
function slackOAuthIssues(
  c: Partial<
    Record<
      (typeof SLACK_OAUTH)[number] | 'ENCRYPTION_KEY' | 'SLACK_SIGNING_SECRET' | 'SLACK_BOT_TOKEN',
      string
    >
  >,
  ctx: z.RefinementCtx,
): void {
  const set = SLACK_OAUTH.filter((k) => c[k] !== undefined);
  if (set.length === 0) {
    // One workspace: the signing secret and the bot token go together; either alone would leave Slack off, silently.
    if (c.SLACK_BOT_TOKEN && !c.SLACK_SIGNING_SECRET)
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_SIGNING_SECRET'],
        message: 'is required with SLACK_BOT_TOKEN (the Slack app is off without it)',
      });
    if (c.SLACK_SIGNING_SECRET && !c.SLACK_BOT_TOKEN)
      ctx.addIssue({
        code: 'custom',
        path: ['SLACK_BOT_TOKEN'],
        message: `is required with SLACK_SIGNING_SECRET (or ${SLACK_OAUTH.join(', ')} for the OAuth install); the Slack app is off without it`,
      });
    return;
  }
  const why = `with ${set.join(', ')} (OAuth install for many workspaces needs ${SLACK_OAUTH.join(', ')})`;
  for (const k of SLACK_OAUTH)
    if (c[k] === undefined) ctx.addIssue({ code: 'custom', path: [k], message: `is required ${why}` });
  if (!c.ENCRYPTION_KEY)
    ctx.addIssue({
      code: 'custom',
      path: ['ENCRYPTION_KEY'],
      message: `is required ${why}: it encrypts the stored bot tokens (at least ${ENCRYPTION_KEY_MIN_LENGTH} characters, the same for every process; e.g. openssl rand -base64 32)`,
    });
  if (!c.SLACK_SIGNING_SECRET)
    ctx.addIssue({ code: 'custom', path: ['SLACK_SIGNING_SECRET'], message: `is required ${why}` });
  if (c.SLACK_BOT_TOKEN)
    ctx.addIssue({
      code: 'custom',
      path: ['SLACK_BOT_TOKEN'],
      message:
        'must be unset with SLACK_CLIENT_ID: OAuth keeps a token per installed workspace (install this workspace again at PUBLIC_URL/slack/install)',
    });
}

export const configSchema = z
  .object({
    PORT: int(5000, 0, 65535), // 0: any free port (tests, the prod-like script)
    HOST: optional.default('0.0.0.0'),
    ROLE: z.enum(['all', 'realtime', 'bot']).default('all'),
    DATABASE_URL: url(['postgres:', 'postgresql:']),
    DATABASE_POOL_SIZE: int(16, 1, 200),
    /**
     * Cast transactions an instance keeps in flight at once; casts arriving while all are busy wait and go together
     * in the next one (group commit). One measured best on 2 cores shared with Postgres (bench/RESULTS.md: more
     * votes/s at every concurrency from 8 up, and half the burst's p99, than 2 or 4). A Postgres with cores to
     * spare may take more.
     */
    DATABASE_CAST_SLOTS: int(1, 1, 64),
    /**
     * The most of a realtime instance's time its broadcasts may take when it is busy: after writing a broadcast for
     * w ms it rests w × (100 − share) / share ms, and changes meanwhile merge into the next one. 50: at most half,
     * the rest stays free for votes and new connections (25 measured no better on 2 shared cores). 100: never rest.
     */
    FANOUT_SHARE_PERCENT: int(50, 5, 100),
    /**
     * Postgres time limits, so an outage answers 503 instead of hanging requests: opening a connection (or waiting
     * for a free one), one statement on the server, one query as the client waits for it (this one also catches a
     * frozen server, which cancels nothing), and a transaction left idle.
     */
    DATABASE_CONNECT_TIMEOUT_MS: int(3_000, 100, 600_000),
    DATABASE_STATEMENT_TIMEOUT_MS: int(4_000, 100, 3_600_000),
    DATABASE_QUERY_TIMEOUT_MS: int(4_500, 100, 3_600_000),
    DATABASE_IDLE_IN_TRANSACTION_TIMEOUT_MS: int(10_000, 100, 3_600_000),
    /** How long an Idempotency-Key (or chat delivery id) replays its first outcome; then it is purged. */
    IDEMPOTENCY_TTL_HOURS: int(24, 1, 24 * 366),
    DATA_DIR: optional.default('./data'),
    REDIS_URL: url(['redis:', 'rediss:']),
    REDIS_PREFIX: optional.default('livevote:'),
    MONGO_URL: url(['mongodb:', 'mongodb+srv:']),
    PUBLIC_URL: url(['http:', 'https:']),
    AUTH_MODE: z.enum(['open', 'signed']).default('open'),
    AUTH_SECRET: optional.refine((s) => s === undefined || s.length >= 32, {
      message: 'must be at least 32 characters',
    }),
    /** Secrets voter tokens signed before a rotation of AUTH_SECRET are still accepted under (until they expire). */
    AUTH_SECRET_PREVIOUS: secretList(32),
    ADMIN_TOKEN: optional.refine((s) => s === undefined || s.length >= 16, {
      message: 'must be at least 16 characters',
    }),
    /** The secret anonymous polls' voter keys are hashed with (README, Anonymous polls); generated when embedded. */
    ANONYMITY_KEY: optional.refine((s) => s === undefined || s.length >= ANONYMITY_KEY_MIN_LENGTH, {
      message: `must be at least ${ANONYMITY_KEY_MIN_LENGTH} characters`,
    }),
    SEED_DEMO: z.enum(['true', 'false', 'auto']).default('auto'),
    /** off: this process serves the API, WebSocket and chat endpoints only (no web pages, no build). */
    WEB_APP: z.enum(['on', 'off']).default('on'),
    SLACK_SIGNING_SECRET: optional,
    SLACK_BOT_TOKEN: optional,
    SLACK_APP_TOKEN: optional,
    SLACK_API_URL: url(['http:', 'https:']),
    /** OAuth install for many workspaces (GET /slack/install); all three together, else SLACK_BOT_TOKEN's one workspace. */
    SLACK_CLIENT_ID: optional,
    SLACK_CLIENT_SECRET: optional,
    /** Signs the OAuth `state` that ties Slack's redirect to the browser that started the install. */
    SLACK_STATE_SECRET: optional.refine((s) => s === undefined || s.length >= 32, {
      message: 'must be at least 32 characters',
    }),
    /** Encrypts the chat tokens stored in the database (AES-256-GCM); required with OAuth. */
    ENCRYPTION_KEY: optional.refine((s) => s === undefined || s.length >= ENCRYPTION_KEY_MIN_LENGTH, {
      message: `must be at least ${ENCRYPTION_KEY_MIN_LENGTH} characters (e.g. openssl rand -base64 32)`,
    }),
    /** Keys stored tokens may still be sealed under during a rotation of ENCRYPTION_KEY (reseal-credentials). */
    ENCRYPTION_KEY_PREVIOUS: secretList(ENCRYPTION_KEY_MIN_LENGTH),
    TEAMS_CLIENT_ID: optional,
    TEAMS_CLIENT_SECRET: optional,
    TEAMS_TENANT_ID: optional,
    /**
     * true: the Teams endpoint accepts activities without a token when TEAMS_CLIENT_ID is unset (local development
     * against a fake connector). Refused in AUTH_MODE=signed. Without either, the endpoint is off.
     */
    TEAMS_ALLOW_UNAUTHENTICATED: z.enum(['true', 'false']).default('false'),
    /** The Teams app's privacy and terms pages (the manifest requires both); default: PUBLIC_URL's own. */
    TEAMS_PRIVACY_URL: url(['https:', 'http:']),
    TEAMS_TERMS_URL: url(['https:', 'http:']),
    LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** The lunch ritual: off runs no schedules, reminders or self-closing in this process (another one does). */
    LUNCH_RITUAL: z.enum(['on', 'off']).default('on'),
    /**
     * Who may change a workspace's lunch places and schedules from Slack or Teams: its admins (Slack workspace admins
     * and owners, Teams owners of the team or group chat), or everyone. Reading them and starting a poll: everyone.
     */
    LUNCH_EDITORS: z.enum(['admins', 'everyone']).default('admins'),
    /** How often schedules and reminders are looked at, and the next close time re-read (ms). */
    LUNCH_TICK_MS: int(5_000, 200, 60_000),
    /** How long a lunch poll below its quorum is extended, once, when no schedule says (minutes). */
    LUNCH_EXTEND_MINUTES: int(10, 1, 240),
    /** The time zone of visit dates for lunch polls no schedule made (default: the server's). */
    LUNCH_TIMEZONE: optional.refine(
      (tz) => {
        if (tz === undefined) return true;
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: tz });
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be an IANA time zone such as Asia/Seoul' },
    ),
    /** off: no abuse limits at all (benchmarks that load from one address). */
    ABUSE_LIMITS: z.enum(['on', 'off']).default('on'),
    /** Ballot changes (casts and retracts) per voter: this many a minute, spread evenly, … */
    VOTE_LIMIT_PER_MINUTE: int(30, 1, 6_000),
    /** … plus this many more a minute, for the quick clicks of someone making up their mind. */
    VOTE_LIMIT_BURST: int(10, 0, 6_000),
    /** New WebSocket connections per client address a minute: an office behind one NAT address shares it. */
    WS_CONNECT_LIMIT_PER_MINUTE: int(1_000, 1, 1_000_000),
    /** POST /api/polls per client address a minute. */
    POLL_CREATE_LIMIT_PER_MINUTE: int(30, 1, 100_000),
    /**
     * How many proxies in front of this process may name the client in X-Forwarded-For (Express's numeric
     * `trust proxy`): off, or 1 behind one load balancer. Without it every client behind the proxy is one address.
     */
    TRUST_PROXY: z
      .string()
      .optional()
      .transform((s) => (s === undefined || s.trim() === '' || s.trim() === 'off' ? '0' : s.trim()))
      .pipe(
        z
          .string()
          .regex(/^\d+$/, 'must be off or the number of proxies in front (1 behind one load balancer)'),
      )
      .transform(Number)
      .pipe(z.number().int().min(0).max(10)),
    /**
     * Who may show our pages in a frame (CSP frame-ancestors), e.g. a Teams tab: https origins, `*.` for subdomains,
     * separated by spaces or commas. Unset: nobody.
     */
    FRAME_ANCESTORS: optional
      .transform((s) => (s ?? '').split(/[\s,]+/).filter(Boolean))
      .refine((list) => list.every((x) => FRAME_ANCESTOR.test(x)), {
        message: "must be https origins (https://host, https://*.host, optional :port) or 'self'",
      }),
  })
  .superRefine((c, ctx) => {
    // Every process on a shared database must hash alike (or a person gets a vote per process), and the key must
    // not live in that database (or a copy of it could be reversed), so only the embedded mode may make its own.
    if (c.DATABASE_URL && !c.ANONYMITY_KEY)
      ctx.addIssue({
        code: 'custom',
        path: ['ANONYMITY_KEY'],
        message:
          'is required with DATABASE_URL (the same value for every process; e.g. openssl rand -hex 32)',
      });
    // The server cancels a slow statement cleanly (the connection stays usable); the client's own limit is for a
    // server that cannot even do that, so it has to be the longer one.
    if (c.DATABASE_QUERY_TIMEOUT_MS <= c.DATABASE_STATEMENT_TIMEOUT_MS)
      ctx.addIssue({
        code: 'custom',
        path: ['DATABASE_QUERY_TIMEOUT_MS'],
        message: 'must be longer than DATABASE_STATEMENT_TIMEOUT_MS',
      });
    if (c.AUTH_MODE === 'signed' && c.TEAMS_ALLOW_UNAUTHENTICATED === 'true')
      ctx.addIssue({
        code: 'custom',
        path: ['TEAMS_ALLOW_UNAUTHENTICATED'],
        message:
          'is refused when AUTH_MODE=signed (set TEAMS_CLIENT_ID: every activity token is then validated)',
      });
    slackOAuthIssues(c, ctx);
    // Slack sends the installer back to PUBLIC_URL/slack/oauth_redirect with a state checked against a Secure cookie,
    // which a browser keeps only over https (or on this machine): over plain http every install would fail as
    // "invalid state".
    const publicUrl = c.PUBLIC_URL ? new URL(c.PUBLIC_URL) : undefined;
    if (
      c.SLACK_CLIENT_ID &&
      publicUrl?.protocol === 'http:' &&
      !['localhost', '127.0.0.1', '[::1]'].includes(publicUrl.hostname)
    )
      ctx.addIssue({
        code: 'custom',
        path: ['PUBLIC_URL'],
        message:
          'must be https with SLACK_CLIENT_ID: Slack redirects the installer there, and the install state cookie is Secure',
      });
    // A previous key without a current one would leave nothing to sign or seal with.
    for (const [previous, current] of [
      ['AUTH_SECRET_PREVIOUS', 'AUTH_SECRET'],
      ['ENCRYPTION_KEY_PREVIOUS', 'ENCRYPTION_KEY'],
    ] as const)
      if (c[previous].length > 0 && !c[current])
        ctx.addIssue({
          code: 'custom',
          path: [previous],
          message: `needs ${current}: the new key, which signs or seals from now on (${previous} only opens)`,
        });
    if (c.AUTH_MODE === 'signed') {
      if (!c.AUTH_SECRET)
        ctx.addIssue({ code: 'custom', path: ['AUTH_SECRET'], message: 'is required when AUTH_MODE=signed' });
      if (!c.ADMIN_TOKEN)
        ctx.addIssue({ code: 'custom', path: ['ADMIN_TOKEN'], message: 'is required when AUTH_MODE=signed' });
    }
  })
  .transform((c) => ({
    ...c,
    PUBLIC_URL: (c.PUBLIC_URL ?? `http://localhost:${c.PORT}`).replace(/\/+$/, ''),
    /** Embedded: no external services at all (PGlite + in-process bus). */
    embedded: c.DATABASE_URL === undefined,
    idempotencyTtlMs: c.IDEMPOTENCY_TTL_HOURS * 3_600_000,
    /** Slack OAuth install for many workspaces: on when its three variables are set (checked above). */
    slackOAuth:
      c.SLACK_CLIENT_ID && c.SLACK_CLIENT_SECRET && c.SLACK_STATE_SECRET
        ? {
            clientId: c.SLACK_CLIENT_ID,
            clientSecret: c.SLACK_CLIENT_SECRET,
            stateSecret: c.SLACK_STATE_SECRET,
          }
        : undefined,
  }));

export type Config = z.infer<typeof configSchema>;

export class ConfigError extends Error {}

/**
 * What a configuration lacks to serve (the `start` command), beyond what every command needs: processes on one
 * database serve one admin API, and each would otherwise make up its own token in its DATA_DIR, so behind a
 * balancer an admin call would pass or fail by which process it reached. Maintenance commands need no token.
 */
export function startIssues(c: Config): string[] {
  return c.DATABASE_URL && !c.ADMIN_TOKEN
    ? [
        '  ADMIN_TOKEN: is required with DATABASE_URL (the same value for every process; e.g. openssl rand -hex 24)',
      ]
    : [];
}

export function parseConfig(env: Record<string, string | undefined>): Config {
  const r = configSchema.safeParse(env);
  if (r.success) return r.data;
  const lines = r.error.issues.map((i) => `  ${i.path.join('.') || '(config)'}: ${i.message}`);
  throw new ConfigError(`Invalid configuration:\n${lines.join('\n')}`);
}
