// A private PostgreSQL 15 cluster (Debian's postgresql-common tools) on a free port, for fault injection: stop and
// start it, freeze it with SIGSTOP, drop it. The machine's own cluster is never touched: everything goes by this
// cluster's name, and signals go only to the pids under this cluster's postmaster.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { freePort } from '@livevote/core/testing';

const run = promisify(execFile);
const VERSION = '15';
const PREFIX = 'lvfaults-';

export interface PgCluster {
  name: string;
  port: number;
  dataDir: string;
  /** postgres:// URL of a database in this cluster (user postgres, trust over 127.0.0.1). */
  url(database: string): string;
  stop(): Promise<void>;
  start(): Promise<void>;
  /** SIGSTOP the postmaster, then every process it forked: connections stay open, nothing answers. */
  freeze(): Promise<void>;
  thaw(): void;
  drop(): Promise<void>;
}

interface Listed {
  name: string;
  port: number;
  dataDir: string;
}

async function listClusters(): Promise<Listed[]> {
  const { stdout } = await run('pg_lsclusters', ['-h']);
  return stdout
    .split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f[0] === VERSION && f.length >= 6)
    .map((f) => ({ name: f[1] as string, port: Number(f[2]), dataDir: f[5] as string }));
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Clusters an earlier run left behind when it was killed outright (its pid is gone). */
async function dropOrphans(): Promise<string[]> {
  const dropped: string[] = [];
  for (const c of await listClusters()) {
    const pid = Number(c.name.slice(PREFIX.length));
    if (!c.name.startsWith(PREFIX) || !Number.isSafeInteger(pid) || alive(pid)) continue;
    await run('pg_dropcluster', ['--stop', VERSION, c.name]).catch(() => undefined);
    dropped.push(c.name);
  }
  return dropped;
}

function childrenOf(ppid: number): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      // The command name may hold spaces and parentheses: the fields we want follow the last ')'.
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppidField = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1];
      if (Number(ppidField) === ppid) pids.push(Number(entry));
    } catch {
      // exited meanwhile
    }
  }
  return pids;
}

export async function createPgCluster(
  log: (line: string) => void = () => {},
  /** postgresql.conf settings of the new cluster (e.g. shared_preload_libraries for pg_stat_statements). */
  settings: Record<string, string> = {},
): Promise<PgCluster> {
  for (const name of await dropOrphans()) log(`dropped ${name}, left behind by an earlier run`);
  const name = `${PREFIX}${process.pid}`;
  const port = await freePort();
  const options = Object.entries(settings).flatMap(([k, v]) => ['-o', `${k}=${v}`]);
  await run('pg_createcluster', [
    VERSION,
    name,
    '-p',
    String(port),
    ...options,
    '--start',
    '--',
    '--auth=trust',
  ]);
  const listed = (await listClusters()).find((c) => c.name === name);
  if (!listed) throw new Error(`pg_createcluster did not list ${name}`);
  // --auth=trust covers every line it writes, but a site-wide createcluster.conf may bring its own pg_hba.conf.
  const hba = `/etc/postgresql/${VERSION}/${name}/pg_hba.conf`;
  if (existsSync(hba)) {
    const text = readFileSync(hba, 'utf8');
    if (!/^host\s+all\s+all\s+127\.0\.0\.1\/32\s+trust\s*$/m.test(text)) {
      writeFileSync(hba, `host all all 127.0.0.1/32 trust\n${text}`);
      await run('pg_ctlcluster', [VERSION, name, 'reload']);
    }
  }
  let frozen: number[] = [];
  const postmaster = () => Number(readFileSync(`${listed.dataDir}/postmaster.pid`, 'utf8').split('\n')[0]);
  const thaw = () => {
    for (const pid of frozen) {
      try {
        process.kill(pid, 'SIGCONT');
      } catch {
        // gone
      }
    }
    frozen = [];
  };
  return {
    name,
    port,
    dataDir: listed.dataDir,
    url: (database) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    stop: async () => {
      await run('pg_ctlcluster', [VERSION, name, 'stop', '-m', 'fast']);
    },
    start: async () => {
      await run('pg_ctlcluster', [VERSION, name, 'start']);
    },
    freeze: async () => {
      const pm = postmaster();
      // The postmaster first, so it forks nothing new while its children are being stopped.
      process.kill(pm, 'SIGSTOP');
      frozen = [pm];
      for (const pid of childrenOf(pm)) {
        try {
          process.kill(pid, 'SIGSTOP');
          frozen.push(pid);
        } catch {
          // exited meanwhile
        }
      }
    },
    thaw,
    drop: async () => {
      thaw(); // a frozen postmaster would never stop
      await run('pg_dropcluster', ['--stop', VERSION, name]);
    },
  };
}
