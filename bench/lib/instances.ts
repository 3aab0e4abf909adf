// livevote processes for the benchmarks: `livevote start` as a real child process on a given port with exactly the
// environment the caller names (nothing inherited), and a wait for /readyz. The fan-out benchmark runs the sources
// through tsx; the fault suite runs the compiled bundle, as the image does.
import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/**
 * The V8 flags the image starts the compiled server with (Dockerfile CMD; server/test/compose.test.ts checks they
 * are alike). Each of the young generation's two semi-spaces may grow to 2 MiB instead of 16: under a burst of
 * handshakes or a fan-out V8 grows them to the cap and an idle server keeps them, ~30 MiB of RSS per instance
 * that holds no connection's state. A/B on the fan-out benchmark's 1k and burst loads (3 rounds, alternating):
 * fan-out latency no worse; bench:rss shows the RSS per connection with and without.
 */
export const COMPILED_NODE_ARGS = ['--max-semi-space-size=2'] as const;

/** Node arguments: the TypeScript sources through tsx, or the esbuild bundle (`npm run build:server`). */
export const FROM_SOURCES = ['--import', 'tsx', 'server/src/main.ts', 'start'] as const;
export const BUNDLE = ['dist/server/main.js', 'start'] as const;
export const COMPILED = [...COMPILED_NODE_ARGS, ...BUNDLE] as const;

export interface InstanceOptions {
  port: number;
  /** The whole environment of the process; PORT is added. */
  env: Record<string, string | undefined>;
  args?: readonly string[];
  /** Append stdout and stderr here (kept for a post-mortem); without it only stderr is kept, in memory. */
  logFile?: string;
}

export interface Instance {
  child: ChildProcess;
  port: number;
  url: string;
  /** What the process wrote so far (the log file's tail when there is one). */
  out(): string;
}

const TAIL = 20_000;

export function spawnInstance(o: InstanceOptions): Instance {
  const fd = o.logFile ? openSync(o.logFile, 'a') : undefined;
  // process.execPath directly, not npm or a shell: the child's pid is the server's, so a signal reaches it alone.
  const child = spawn(process.execPath, [...(o.args ?? FROM_SOURCES)], {
    cwd: ROOT,
    env: { ...o.env, PORT: String(o.port) },
    stdio: fd === undefined ? ['ignore', 'ignore', 'pipe'] : ['ignore', fd, fd],
  });
  if (fd !== undefined) closeSync(fd); // the child holds its own copy
  let out = '';
  child.stderr?.on('data', (d) => {
    out += d;
  });
  const logFile = o.logFile;
  return {
    child,
    port: o.port,
    url: `http://127.0.0.1:${o.port}`,
    out: () => {
      if (!logFile) return out;
      const size = statSync(logFile).size;
      return readFileSync(logFile, 'utf8').slice(Math.max(0, size - TAIL));
    },
  };
}

/** Polls /readyz every 250 ms until it answers 200; throws with the process's output if it exits or never does. */
export async function waitReady(instance: Instance, tries = 160): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (instance.child.exitCode !== null || instance.child.signalCode !== null) break;
    if (
      await fetch(`${instance.url}/readyz`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`livevote instance not ready:\n${instance.out()}`);
}

export async function startInstance(o: InstanceOptions): Promise<Instance> {
  const instance = spawnInstance(o);
  await waitReady(instance);
  return instance;
}

/** Resolves when the process has exited (at once if it already has). */
export function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once('exit', () => resolve()));
}
