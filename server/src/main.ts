// The livevote CLI: `livevote start | migrate | seed-demo | outbox-retry | reseal-credentials | teams-package |
// slack-manifest`.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { createCore, SqlInstallationStore } from '@livevote/core';
import { pino } from 'pino';
import { openAdapters, openStore, Unreachable } from './adapters.ts';
import { ConfigError, parseConfig, startIssues } from './config.ts';
import { seedDemo } from './seed-demo.ts';
import { start } from './start.ts';

const USAGE = `usage: livevote <command>
  start       serve the API (and, by ROLE, realtime and chat endpoints); default
  migrate     apply database migrations and exit
  seed-demo   create the demo lunch poll if missing and exit
  teams-package [file]   write the Teams app zip (TEAMS_CLIENT_ID, PUBLIC_URL, TEAMS_PRIVACY_URL, TEAMS_TERMS_URL)
                         to file (dist/livevote-teams.zip), validated against the manifest schema
  slack-manifest         print the Slack app manifest for PUBLIC_URL (socket mode when SLACK_APP_TOKEN is set)
  outbox-retry [id ...]  send parked outbox rows (refused by MongoDB too often) again; all of them without ids
  reseal-credentials     seal every stored chat token still under an ENCRYPTION_KEY_PREVIOUS key again under
                         ENCRYPTION_KEY; exits 0 when none is left under another key (then drop the previous one)`;

async function main(argv: string[]): Promise<number> {
  const command = argv[0] ?? 'start';
  if (command === '--help' || command === '-h' || command === 'help') {
    console.log(USAGE);
    return 0;
  }
  let config: ReturnType<typeof parseConfig>;
  try {
    config = parseConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      console.error(e.message);
      return 78; // EX_CONFIG
    }
    throw e;
  }
  const log = pino({ level: config.LOG_LEVEL, base: { role: config.ROLE } });

  switch (command) {
    case 'migrate': {
      const s = await openStore(config, log); // opening applies pending migrations
      log.info({ store: s.name }, 'migrations applied');
      await s.close();
      return 0;
    }
    case 'seed-demo': {
      const a = await openAdapters(config, log);
      const result = await seedDemo(createCore(a.store, a.bus));
      log.info({ result }, 'demo poll');
      await a.close();
      return 0;
    }
    case 'start': {
      const issues = startIssues(config);
      if (issues.length) {
        console.error(`Invalid configuration:\n${issues.join('\n')}`);
        return 78;
      }
      const running = await start(config, log);
      const base = config.PUBLIC_URL;
      const admin = config.ADMIN_TOKEN ? `${base}/admin` : `${base}/admin#token=${running.adminToken}`;
      // The demo poll's links only where this process seeded it; a vote link by emp_no only where one is taken.
      const demo = running.demoSeeded
        ? [
            `  board      ${base}/board/lunch-demo`,
            config.AUTH_MODE === 'open'
              ? `  vote       ${base}/p/lunch-demo?emp_no=12345`
              : `  vote       ${base}/p/lunch-demo (with a signed link from Slack's "Vote in browser")`,
          ]
        : [];
      console.log(
        [
          '',
          `  livevote is up on ${base}  (${config.embedded ? 'embedded: PGlite + in-process bus' : 'Postgres'})`,
          ...demo,
          `  admin      ${admin}`,
          `  API        ${base}/api/polls${running.demoSeeded ? `   ·   ${base}/api/votes/stats?poll_id=lunch-demo` : ''}`,
          '',
        ].join('\n'),
      );
      await new Promise<void>((resolve) => {
        const onSignal = (signal: string) => {
          log.info({ signal }, 'draining');
          running.stop().then(resolve, resolve);
        };
        process.once('SIGTERM', onSignal);
        process.once('SIGINT', onSignal);
      });
      log.info('stopped');
      return 0;
    }
    case 'outbox-retry': {
      const ids = argv.slice(1).map(Number);
      if (!ids.every((id) => Number.isSafeInteger(id) && id > 0)) {
        console.error(`outbox-retry: ids are outbox row numbers\n${USAGE}`);
        return 64;
      }
      const s = await openStore(config, log);
      try {
        const n = await s.store.retryParkedOutbox(ids.length > 0 ? ids : undefined);
        console.log(`${n} parked outbox row(s) queued for delivery again`);
      } finally {
        await s.close();
      }
      return 0;
    }
    case 'reseal-credentials': {
      if (!config.ENCRYPTION_KEY) {
        console.error('ENCRYPTION_KEY: set it to the new key (and ENCRYPTION_KEY_PREVIOUS to the old one).');
        return 78;
      }
      const s = await openStore(config, log);
      try {
        const r = await new SqlInstallationStore(s.driver, {
          encryptionKey: config.ENCRYPTION_KEY,
          previousEncryptionKeys: config.ENCRYPTION_KEY_PREVIOUS,
        }).resealInstallations();
        console.log(
          `${r.resealed} installation(s) sealed again under ENCRYPTION_KEY, ${r.current} already were`,
        );
        for (const u of r.unreadable)
          console.error(`${u.workspace}: ${u.code} (still needs its key, or install again)`);
        return r.unreadable.length === 0 ? 0 : 65;
      } finally {
        await s.close();
      }
    }
    case 'teams-package': {
      if (!config.TEAMS_CLIENT_ID) {
        console.error(
          'TEAMS_CLIENT_ID: set it to your Azure bot app id (a GUID); it is the Teams app and bot id.',
        );
        return 78;
      }
      const file = argv[1] ?? 'dist/livevote-teams.zip';
      await mkdir(dirname(file), { recursive: true });
      const { teamsPackage, TEAMS_MANIFEST_VERSION } = await import('@livevote/bot');
      let zip: Buffer;
      try {
        zip = teamsPackage(config.TEAMS_CLIENT_ID, config.PUBLIC_URL, {
          ...(config.TEAMS_PRIVACY_URL ? { privacyUrl: config.TEAMS_PRIVACY_URL } : {}),
          ...(config.TEAMS_TERMS_URL ? { termsUrl: config.TEAMS_TERMS_URL } : {}),
        });
      } catch (err) {
        console.error(String(err instanceof Error ? err.message : err));
        return 65; // EX_DATAERR
      }
      await writeFile(file, zip);
      console.log(
        `wrote ${file}: manifest ${TEAMS_MANIFEST_VERSION}, valid against its schema (upload it in Teams: Apps → Manage your apps → Upload an app)`,
      );
      return 0;
    }
    case 'slack-manifest': {
      if (!config.PUBLIC_URL.startsWith('https://'))
        console.error(
          `note: Slack calls only https URLs; set PUBLIC_URL (now ${config.PUBLIC_URL}) to yours`,
        );
      const { slackManifest } = await import('@livevote/bot');
      process.stdout.write(
        slackManifest({ publicUrl: config.PUBLIC_URL, socketMode: !!config.SLACK_APP_TOKEN }),
      );
      return 0;
    }
    default:
      console.error(`unknown command "${command}"\n${USAGE}`);
      return 64; // EX_USAGE
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof Unreachable) {
      // One line naming the setting to check, not a driver's stack.
      console.error(`livevote cannot start: ${err.message}`);
      process.exit(69); // EX_UNAVAILABLE
    }
    console.error(err);
    process.exit(1);
  },
);
