// The InstallationStore over any Postgres (server or PGlite): one row per workspace, the credentials sealed with
// AES-256-GCM (credential-cipher.ts) and bound to their workspace, so a row's sealed value opens for no other.
import type { Installation, InstallationStore, StoredInstallation } from '../../ports/installations.ts';
import { CredentialCipher, CredentialCipherError } from './credential-cipher.ts';
import type { SqlDriver } from './sql-driver.ts';

export interface SqlInstallationStoreOptions {
  /** ENCRYPTION_KEY (≥ 32 characters): every process on one database must use the same one. */
  encryptionKey: string;
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
    this.cipher = new CredentialCipher(options.encryptionKey);
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
    let plain: string;
    try {
      plain = this.cipher.open(row.credentials, row.workspace);
    } catch (e) {
      if (e instanceof CredentialCipherError)
        throw new CredentialCipherError(e.code, `the installation of ${workspace} ${HELP[e.code]}`);
      throw e;
    }
    return {
      workspace: row.workspace,
      platform: row.platform,
      installedBy: row.installed_by,
      credentials: JSON.parse(plain) as Record<string, unknown>,
      installedAt: new Date(row.installed_at).toISOString(),
      updatedAt: new Date(row.updated_at).toISOString(),
    };
  }

  async deleteInstallation(workspace: string): Promise<boolean> {
    const rows = await this.db.query('delete from installations where workspace = $1 returning workspace', [
      workspace,
    ]);
    return rows.length > 0;
  }
}
