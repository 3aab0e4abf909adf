// The production shape without Docker: two `realtime` processes and one `bot` process on the real Postgres and
// Redis, behind LocalProxy (what nginx is in docker-compose.yml). For local trials (`npm run prod-like`) and for
// the fault tests, which kill one process and watch the others carry on.
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { freePort } from '@livevote/core/testing';
import { LocalProxy, type Upstream } from './local-proxy.ts';

const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));

export interface ProdLikeOptions {
  databaseUrl: string;
  redisUrl: string;
  redisPrefix?: string;
  mongoUrl?: string;
  adminToken: string;
  /** ANONYMITY_KEY: every process must hash anonymous polls' voters alike. */
  anonymityKey: string;
  /** The proxy's port (0: any free port). */
  port?: number;
  /** Serve the web pages (needs web/dist or a build); off for API-only fault tests. */
  web?: boolean;
  /** More environment for every process (Slack/Teams credentials, AUTH_MODE, LOG_LEVEL, …). */
  env?: Record<string, string>;
  /** Each process's log lines, prefixed with its name. */
  onLog?: (name: string, line: string) => void;
}

export interface ProdLike {
  url: string;
  processes: Map<string, { child: ChildProcess; port: number }>;
  proxy: LocalProxy;
  /** Stops every process (SIGTERM: each drains) and the proxy. */
  stop(): Promise<void>;
}

async function waitReady(port: number, child: ChildProcess, name: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${name} exited with code ${child.exitCode} while starting`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/readyz`)).status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${name} was not ready after ${timeoutMs} ms`);
}

export const exited = (child: ChildProcess): Promise<number | null> =>
  child.exitCode !== null
    ? Promise.resolve(child.exitCode)
    : new Promise((r) => child.once('exit', (code) => r(code)));

export async function startProdLike(o: ProdLikeOptions): Promise<ProdLike> {
  // The proxy's address is every process's PUBLIC_URL, so it is chosen first and listened on once they are up.
  const proxyPort = o.port || (await freePort());
  const url = `http://127.0.0.1:${proxyPort}`;
  const roles: { name: string; role: 'realtime' | 'bot'; seed: boolean }[] = [
    { name: 'realtime-1', role: 'realtime', seed: true },
    { name: 'realtime-2', role: 'realtime', seed: false },
    { name: 'bot', role: 'bot', seed: false },
  ];
  const processes = new Map<string, { child: ChildProcess; port: number }>();
  try {
    for (const r of roles) {
      const port = await freePort();
      const child = spawn(process.execPath, ['--import', 'tsx', MAIN, 'start'], {
        env: {
          PATH: process.env.PATH ?? '',
          HOME: process.env.HOME ?? '',
          NODE_ENV: 'production',
          ...o.env,
          ROLE: r.role,
          PORT: String(port),
          HOST: '127.0.0.1',
          DATABASE_URL: o.databaseUrl,
          REDIS_URL: o.redisUrl,
          REDIS_PREFIX: o.redisPrefix ?? 'livevote:',
          ...(o.mongoUrl ? { MONGO_URL: o.mongoUrl } : {}),
          ADMIN_TOKEN: o.adminToken,
          ANONYMITY_KEY: o.anonymityKey,
          PUBLIC_URL: o.env?.PUBLIC_URL ?? url,
          SEED_DEMO: r.seed ? 'true' : 'false',
          WEB_APP: o.web === false ? 'off' : 'on',
          TRUST_PROXY: '1', // behind the local proxy, which names the client in X-Forwarded-For
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      for (const stream of [child.stdout, child.stderr]) {
        let buf = '';
        stream?.on('data', (d: Buffer) => {
          buf += d.toString();
          const lines = buf.split('\n');
          buf = lines.pop() ?? '';
          for (const line of lines) if (line.trim()) o.onLog?.(r.name, line);
        });
      }
      processes.set(r.name, { child, port });
      // One at a time: the first applies migrations and seeds, so the others start on a ready schema.
      await waitReady(port, child, r.name, 90_000);
    }
  } catch (err) {
    for (const p of processes.values()) p.child.kill('SIGKILL');
    throw err;
  }
  const upstream = (name: string): Upstream => ({ name, port: processes.get(name)?.port ?? 0 });
  const proxy = new LocalProxy({
    realtime: [upstream('realtime-1'), upstream('realtime-2')],
    bot: upstream('bot'),
  });
  await proxy.listen(proxyPort);
  return {
    url,
    processes,
    proxy,
    async stop() {
      await Promise.all(
        [...processes.values()].map(async ({ child }) => {
          if (child.exitCode !== null) return;
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
          await exited(child);
          clearTimeout(timer);
        }),
      );
      await proxy.close();
    },
  };
}
