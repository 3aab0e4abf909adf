// docker-compose.yml, the Dockerfile and the nginx config, checked without a Docker engine: the compose CLI
// (Debian's docker-compose; .ci/run installs it) validates and resolves the file, then each app service's
// environment must pass our own config schema, so the stack would start rather than stop on a bad variable.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { COMPILED_NODE_ARGS } from '../../bench/lib/instances.ts';
import { parseConfig } from '../src/config.ts';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const read = (file: string) => readFileSync(`${ROOT}${file}`, 'utf8');
const SECRETS = {
  AUTH_SECRET: 's'.repeat(40),
  ADMIN_TOKEN: 'admin-token-0123456789',
  ANONYMITY_KEY: 'k'.repeat(40),
};

const cli = spawnSync('docker-compose', ['version', '--short'], { encoding: 'utf8' });
const hasCli = cli.status === 0;
if (!hasCli)
  console.warn(
    '[compose] CLI checks skipped: docker-compose is not installed (apt-get install docker-compose)',
  );

function composeConfig(env: Record<string, string>) {
  return spawnSync('docker-compose', ['-f', 'docker-compose.yml', 'config'], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

interface Service {
  image?: string;
  build?: unknown;
  environment?: Record<string, string>;
  healthcheck?: { test: string[] | string };
  depends_on?: Record<string, { condition: string }>;
  ports?: unknown[];
  volumes?: unknown[];
}

describe.skipIf(!hasCli)(`docker-compose.yml (docker-compose ${cli.stdout?.trim()})`, () => {
  const resolved = () => {
    const out = composeConfig(SECRETS);
    expect(out.stderr).toBe('');
    expect(out.status).toBe(0);
    return parse(out.stdout) as { services: Record<string, Service> };
  };

  it('is valid and runs postgres, redis, mongo, two realtime, two bot and a load balancer, all with healthchecks', () => {
    const { services } = resolved();
    expect(Object.keys(services).sort()).toEqual([
      'bot-1',
      'bot-2',
      'lb',
      'mongo',
      'postgres',
      'realtime-1',
      'realtime-2',
      'redis',
    ]);
    for (const [name, s] of Object.entries(services)) expect(s.healthcheck?.test, name).toBeDefined();
    const roles = Object.fromEntries(
      Object.entries(services)
        .filter(([, s]) => s.environment?.ROLE)
        .map(([name, s]) => [name, s.environment?.ROLE]),
    );
    expect(roles).toEqual({
      'bot-1': 'bot',
      'bot-2': 'bot',
      'realtime-1': 'realtime',
      'realtime-2': 'realtime',
    });
    // The load balancer waits for healthy app instances; apps wait for healthy Postgres and Redis, not MongoDB.
    expect(services.lb?.depends_on?.['realtime-1']?.condition).toBe('service_healthy');
    expect(services['bot-2']?.depends_on?.postgres?.condition).toBe('service_healthy');
    expect(services['bot-2']?.depends_on?.mongo?.condition).toBe('service_started');
    expect(services.lb?.depends_on?.['bot-2']?.condition).toBe('service_healthy');
  });

  it('gives every app service an environment our config accepts', () => {
    const { services } = resolved();
    for (const name of ['realtime-1', 'realtime-2', 'bot-1', 'bot-2']) {
      const config = parseConfig(services[name]?.environment ?? {});
      expect(config.DATABASE_URL, name).toMatch(/@postgres:5432\//);
      expect(config.REDIS_URL, name).toBe('redis://redis:6379');
      expect(config.MONGO_URL, name).toBe('mongodb://mongo:27017/livevote');
      expect(config.AUTH_MODE, name).toBe('signed');
      // Behind nginx: the client is the address nginx appended, or every client would share nginx's.
      expect(config.TRUST_PROXY, name).toBe(1);
      // Every role knows whether Teams is on: the realtime ones serve the board it frames.
      expect(Object.keys(services[name]?.environment ?? {}), name).toContain('TEAMS_CLIENT_ID');
    }
    const seeding = ['realtime-1', 'realtime-2', 'bot-1', 'bot-2'].filter(
      (n) => services[n]?.environment?.SEED_DEMO === 'true',
    );
    expect(seeding.length).toBeLessThanOrEqual(1);
  });

  it('refuses to resolve without the secrets, naming the missing one', () => {
    const out = composeConfig({ ADMIN_TOKEN: SECRETS.ADMIN_TOKEN, ANONYMITY_KEY: SECRETS.ANONYMITY_KEY });
    expect(out.status).not.toBe(0);
    expect(out.stderr).toContain('AUTH_SECRET');
    const noKey = composeConfig({ AUTH_SECRET: SECRETS.AUTH_SECRET, ADMIN_TOKEN: SECRETS.ADMIN_TOKEN });
    expect(noKey.status).not.toBe(0);
    expect(noKey.stderr).toContain('ANONYMITY_KEY');
  });
});

describe('Dockerfile and load balancer', () => {
  it('builds in stages, runs compiled JS as a non-root user, role by ROLE, signals straight to node', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile.match(/^FROM /gm)?.length).toBeGreaterThanOrEqual(2);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    const instructions = runtime.replace(/^#.*$/gm, '');
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/ROLE=all/);
    expect(runtime).toMatch(/^HEALTHCHECK /m);
    // Exec form (SIGTERM reaches the process, which drains) and the compiled bundle: no TypeScript loader.
    const cmd = JSON.parse(runtime.match(/^CMD (\[.*\])$/m)?.[1] ?? '[]') as string[];
    // The V8 flag keeping the young generation small (see the Dockerfile), as the benchmarks start the bundle.
    expect(cmd).toEqual(['node', ...COMPILED_NODE_ARGS, 'dist/server/main.js', 'start']);
    expect(dockerfile).toMatch(/^RUN npm run build$/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/dist\/server \.\/dist\/server$/m);
    expect(instructions).not.toMatch(/tsx|\.ts\b|^COPY (core|realtime|bot|server|web)\b/m);
    // What it reads at run time ships beside the bundle.
    expect(runtime).toMatch(/^COPY manifests \.\/manifests$/m);
    expect(runtime).toMatch(/^COPY --from=build \/app\/web\/dist \.\/web\/dist$/m);
    // Only what the build context should hold reaches it.
    expect(read('.dockerignore')).toMatch(/node_modules/);
  });

  it('routes chat webhooks to the bot and upgrades WebSockets to the realtime instances', () => {
    const nginx = read('deploy/nginx.conf');
    expect(nginx).toMatch(/server realtime-1:5000[^;]*;\s*server realtime-2:5000/);
    expect(nginx).toMatch(/location \/slack\/ \{[^}]*proxy_pass http:\/\/bot;/);
    expect(nginx).toMatch(/location = \/api\/messages \{[^}]*proxy_pass http:\/\/bot;/);
    // The Teams app's pages (tab configuration, privacy, terms) live where it runs.
    expect(nginx).toMatch(/location \/teams\/ \{[^}]*proxy_pass http:\/\/bot;/);
    // An install code is exchanged once: the OAuth redirect is never retried on another bot.
    expect(nginx).toMatch(
      /location = \/slack\/oauth_redirect \{[^}]*proxy_pass http:\/\/bot;[^}]*proxy_next_upstream off;/,
    );
    const ws = nginx.match(/location \/ws\/ \{[^}]*\}/)?.[0] ?? '';
    expect(ws).toContain('proxy_pass http://realtime;');
    // Headers are set once, for the server: Connection follows the map (upgrade for WebSockets, else empty).
    const server = nginx.match(/server \{[^{]*/)?.[0] ?? '';
    for (const header of [
      'proxy_set_header Host $host;',
      'proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;',
      'proxy_set_header X-Forwarded-Proto $scheme;',
      'proxy_set_header X-Request-Id $request_id;',
      'proxy_set_header Upgrade $http_upgrade;',
      'proxy_set_header Connection $connection_upgrade;',
    ])
      expect(server).toContain(header);
    expect(nginx).toMatch(/map \$http_upgrade \$connection_upgrade \{\s*default upgrade;\s*''\s+'';/);
    expect(nginx).toMatch(/events\$ \{[^}]*proxy_buffering off;/);
    // A location with proxy_set_header lines of its own inherits none of the server's (the client address the abuse
    // limits count by, the request id): so no location has any.
    const locations = nginx.match(/location [^{]*\{[^}]*\}/g) ?? [];
    expect(locations.length).toBeGreaterThanOrEqual(5);
    for (const loc of locations) expect(loc).not.toContain('proxy_set_header');
    // The same file the compose stack mounts.
    expect(read('docker-compose.yml')).toContain('./deploy/nginx.conf:/etc/nginx/nginx.conf:ro');
  });

  it('logs no query strings (tokens and emp_no live there) and keeps /metrics to the internal networks', () => {
    const nginx = read('deploy/nginx.conf').replace(/#.*$/gm, '');
    // Every access log uses our format, and our format names no variable that holds the query or the referrer.
    const logs = [...nginx.matchAll(/^\s*access_log\s+([^;]+);/gm)].map((m) => m[1]?.trim().split(/\s+/));
    expect(logs).toEqual([['/dev/stdout', 'livevote']]);
    const format = nginx.match(/log_format\s+livevote\s+([^;]+);/)?.[1] ?? '';
    expect(format).toContain('$uri');
    expect(format).toContain('$status');
    for (const leaky of [
      /\$request\b/,
      /\$request_uri/,
      /\$args/,
      /\$query_string/,
      /\$arg_/,
      /\$http_referer/,
    ])
      expect(format).not.toMatch(leaky);
    // /metrics: private ranges allowed, everyone else denied, and no other location serves it.
    // Case-insensitive, trailing slash too: Express routes /METRICS and /metrics/ to the same handler.
    const metrics = nginx.match(/location ~\* \^\/metrics\(\/\|\$\) \{[^}]*\}/)?.[0] ?? '';
    for (const net of ['127.0.0.0/8', '10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16'])
      expect(metrics).toContain(`allow ${net};`);
    expect(metrics).toMatch(/deny all;\s*proxy_pass http:\/\/realtime;/);
    expect(metrics).not.toMatch(/allow all/);
    expect(nginx.match(/location[^{]*metrics/g)).toHaveLength(1);
  });
});
