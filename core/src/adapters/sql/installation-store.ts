// The InstallationStore over any Postgres (server or PGlite): one row per workspace, the credentials sealed with
// AES-256-GCM (credential-cipher.ts) and bound to their workspace, so a row's sealed value opens for no other.
import type {
  Installation,
  InstallationStore,
  ResealReport,
  StoredInstallation,
} from '../../ports/installations.ts';
import { CredentialCipher, CredentialCipherError } from './credential-cipher.ts';
import type { SqlDriver } from './sql-driver.ts';

export interface SqlInstallationStoreOptions {
  /** ENCRYPTION_KEY (≥ 32 characters): every process on one database must use the same one. */
  encryptionKey: string;
  /**
   * ENCRYPTION_KEY_PREVIOUS: keys credentials may still be sealed under while the key is being rotated. They are
   * opened, and sealed again under encryptionKey as they are read (or all at once: resealInstallations).
   */
  previousEncryptionKeys?: readonly string[];
}

interface Row {
  workspace: string;
  platform: 'slack';
  installed_by: string | null;
  credentials: string;
  installed_at: Date | string;
  updated_at: Date | string;
}

const HELP: Record<CredentialCipherError['code'], string> = {
  credentials_other_key:
    'was sealed under another ENCRYPTION_KEY: start with the key it was installed with, or install the app again',
  credentials_tampered: 'was changed in the database or copied from another workspace: install the app again',
  credentials_malformed: 'is not a sealed value: install the app again',
};

export class SqlInstallationStore implements InstallationStore {
  private readonly cipher: CredentialCipher;

  constructor(
    private readonly db: SqlDriver,
    options: SqlInstallationStoreOptions,
  ) {
    this.cipher = new CredentialCipher(options.encryptionKey, options.previousEncryptionKeys);
  }

  async saveInstallation(i: Installation): Promise<void> {
    if (!i.workspace.startsWith(`${i.platform}:`) || i.workspace.length <= i.platform.length + 1)
      throw new Error(`installation workspace "${i.workspace}" is not a ${i.platform} workspace`);
    const sealed = this.cipher.seal(JSON.stringify(i.credentials), i.workspace);
    await this.db.query(
      `insert into installations (workspace, platform, installed_by, credentials) values ($1, $2, $3, $4)
       on conflict (workspace) do update set platform = excluded.platform, installed_by = excluded.installed_by,
         credentials = excluded.credentials, updated_at = now()`,
      [i.workspace, i.platform, i.installedBy, sealed],
    );
  }

  async installation(workspace: string): Promise<StoredInstallation | null> {
    const [row] = await this.db.query<Row>(
      `select workspace, platform, installed_by, credentials, installed_at, updated_at
       from installations where workspace = $1`,
      [workspace],
    );
    if (!row) return null;
    const plain = this.open(row);
    // Sealing it again is housekeeping: should that write fail, the token is still good, and the next read retries.
    if (!this.cipher.isCurrent(row.credentials)) await this.reseal(row, plain).catch(() => false);
    return {
      workspace: row.workspace,
      platform: row.platform,
      installedBy: row.installed_by,
      credentials: JSON.parse(plain) as Record<string, unknown>,
      installedAt: new Date(row.installed_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }

  async resealInstallations(): Promise<ResealReport> {
    const report: ResealReport = { resealed: 0, current: 0, unreadable: [] };
    // One row per workspace, so few: read at once, then each one under another key opened and sealed again in turn.
    const rows = await this.db.query<{ workspace: string; credentials: string }>(
      'select workspace, credentials from installations order by workspace',
    );
    for (const row of rows) {
      if (this.cipher.isCurrent(row.credentials)) {
        report.current++;
        continue;
      }
      try {
        if (await this.reseal(row, this.open(row))) report.resealed++;
        else report.current++; // sealed again meanwhile (a read, or a new install)
      } catch (e) {
        if (!(e instanceof CredentialCipherError)) throw e;
        report.unreadable.push({ workspace: row.workspace, code: e.code });
      }
    }
    return report;
  }

  private open(row: { workspace: string; credentials: string }): string {
    try {
      return this.cipher.open(row.credentials, row.workspace);
    } catch (e) {
      if (e instanceof CredentialCipherError)
        throw new CredentialCipherError(e.code, `the installation of ${row.workspace} ${HELP[e.code]}`);
      throw e;
    }
  }

  /** Seals a row again under the current key, unless it changed since it was read (a new install wins). */
  private async reseal(row: { workspace: string; credentials: string }, plain: string): Promise<boolean> {
    const rows = await this.db.query(
      'update installations set credentials = $3 where workspace = $1 and credentials = $2 returning 1',
      [row.workspace, row.credentials, this.cipher.seal(plain, row.workspace)],
    );
    return rows.length === 1;
  }

  async deleteInstallation(workspace: string): Promise<boolean> {
    const rows = await this.db.query('delete from installations where workspace = $1 returning workspace', [
      workspace,
    ]);
    return rows.length > 0;
  }
}
