// livevote as separate processes for the multi-process chat tests: the environment of one `all` process on a
// private database and Redis prefix, talking to a fake Slack, and starting several of them in turn.
import {
  freePort,
  TEST_ANONYMITY_KEY,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
} from '@livevote/core/testing';
import { type Instance, spawnInstance, startInstance, waitReady } from '../../bench/lib/instances.ts';

export interface ChatProcessesOptions {
  db: TestDatabase;
  slackUrl: string;
  signingSecret: string;
  adminToken: string;
  /** Anything to add or override. */
  env?: Record<string, string>;
}

export function chatProcessEnv(o: ChatProcessesOptions): Record<string, string | undefined> {
  return {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    HOST: '127.0.0.1',
    ROLE: 'all',
    DATABASE_URL: o.db.url,
    ANONYMITY_KEY: TEST_ANONYMITY_KEY,
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: testPrefix(),
    ADMIN_TOKEN: o.adminToken,
    ABUSE_LIMITS: 'off',
    SEED_DEMO: 'false',
    WEB_APP: 'off',
    LOG_LEVEL: 'warn',
    PUBLIC_URL: 'https://lunch.example.test',
    SLACK_SIGNING_SECRET: o.signingSecret,
    SLACK_BOT_TOKEN: 'xoxb-processes',
    SLACK_API_URL: o.slackUrl,
    ...o.env,
  };
}

/** `n` processes sharing one environment (and so one Redis prefix): the first migrates, the others start together. */
export async function startChatProcesses(n: number, o: ChatProcessesOptions): Promise<Instance[]> {
  const env = chatProcessEnv(o);
  const first = await startInstance({ port: await freePort(), env });
  const rest = await Promise.all(
    Array.from({ length: n - 1 }, async () => spawnInstance({ port: await freePort(), env })),
  );
  await Promise.all(rest.map((i) => waitReady(i)));
  return [first, ...rest];
}
