// `npm run prod-like`: the production-like stack on this machine's Postgres and Redis, proxy on PORT (5000).
// Build-and-run tooling, like web-build.ts, so it reads its few settings from the environment directly.
import pg from 'pg';
import { startProdLike } from './prod-like.ts';

const env = process.env;
const databaseUrl = env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/livevote';
const redisUrl = env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const adminToken = env.ADMIN_TOKEN ?? 'prod-like-admin-token';
// A fixed key for a local stack (its database outlives a run, so the key must too); set your own anywhere else.
const anonymityKey = env.ANONYMITY_KEY ?? 'prod-like-anonymity-key-for-local-runs-only';

// The database named in DATABASE_URL is created on first use.
const target = new URL(databaseUrl);
const name = decodeURIComponent(target.pathname.slice(1));
const admin = new URL(databaseUrl);
admin.pathname = '/postgres';
const client = new pg.Client({ connectionString: admin.toString() });
await client.connect();
const exists = await client.query('select 1 from pg_database where datname = $1', [name]);
if (exists.rowCount === 0) await client.query(`create database "${name.replaceAll('"', '""')}"`);
await client.end();

// Everything else the operator set (Slack and Teams credentials, AUTH_MODE, LOG_LEVEL, REDIS_PREFIX, PUBLIC_URL for
// a tunnel, …) reaches every process; the stack sets only what makes it this topology (roles, ports, the proxy).
const passed = Object.fromEntries(
  Object.entries(env).filter((e): e is [string, string] => typeof e[1] === 'string'),
);

const stack = await startProdLike({
  env: passed,
  databaseUrl,
  redisUrl,
  ...(env.REDIS_PREFIX ? { redisPrefix: env.REDIS_PREFIX } : {}),
  ...(env.MONGO_URL ? { mongoUrl: env.MONGO_URL } : {}),
  adminToken,
  anonymityKey,
  port: Number(env.PORT ?? 5000),
  onLog: (proc, line) => console.log(`${proc.padEnd(10)} ${line}`),
});
const pids = [...stack.processes].map(([n, p]) => `${n}=${p.child.pid}`).join(' ');
console.log(`\n  prod-like stack on ${stack.url}  (${pids})`);
console.log(`  board ${stack.url}/board/lunch-demo   admin ${stack.url}/admin#token=${adminToken}`);
console.log('  kill one realtime pid to watch clients move to the other; Ctrl-C stops everything\n');
const stop = () => void stack.stop().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
