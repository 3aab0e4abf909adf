// One livevote process for an end-to-end test: a free port, its own data folder (embedded PGlite), quiet logs, no
// demo poll; `env` adds or overrides settings (chat secrets, fake API URLs), `options` the logger and start()'s
// test seams (the in-memory archive).
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@livevote/core/testing';
import { parseConfig, type Running, type StartOverrides, start } from '@livevote/server';
import { type Logger, pino } from 'pino';

export interface Booted {
  base: string;
  running: Running;
  stop(): Promise<void>;
}

export interface BootOptions {
  /** Where the process logs; silent when absent. */
  log?: Logger;
  overrides?: StartOverrides;
}

export async function boot(env: Record<string, string> = {}, options: BootOptions = {}): Promise<Booted> {
  const dataDir = await mkdtemp(join(tmpdir(), 'lv-e2e-'));
  const port = await freePort();
  let running: Running;
  try {
    running = await start(
      parseConfig({
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        SEED_DEMO: 'false',
        PUBLIC_URL: 'https://lunch.example.test',
        ...env,
      }),
      options.log ?? pino({ level: 'silent' }),
      options.overrides,
    );
  } catch (e) {
    // A configuration a test expects to be refused leaves no data folder behind.
    await rm(dataDir, { recursive: true, force: true });
    throw e;
  }
  return {
    base: `http://127.0.0.1:${port}`,
    running,
    async stop() {
      await running.stop();
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}
