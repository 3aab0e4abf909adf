// The InstallationStore port: a chat app installed in a workspace through OAuth (Slack), tokens included. One per
// workspace: `slack:<team id>`, or `slack:<enterprise id>` for an org-wide Enterprise Grid install. Adapters keep the
// credentials encrypted at rest (adapters/sql/installation-store.ts).
import type { Workspace } from '../domain/workspace.ts';

export interface Installation {
  /** The workspace it serves; starts with the platform (`slack:`). */
  workspace: Workspace;
  platform: 'slack';
  /** The platform user who installed it, for operators; never a secret. */
  installedBy: string | null;
  /** What the platform handed over on install (the bot token among it), kept whole and only ever stored sealed. */
  credentials: Record<string, unknown>;
}

export interface StoredInstallation extends Installation {
  installedAt: string;
  updatedAt: string;
}

export interface InstallationStore {
  /** Adds the workspace's installation, or replaces it: installing again brings new tokens. */
  saveInstallation(installation: Installation): Promise<void>;
  /**
   * The workspace's installation, or null when it has none. Credentials that cannot be trusted (sealed under another
   * ENCRYPTION_KEY, changed, or moved from another row) throw a coded error rather than pass for a token.
   */
  installation(workspace: Workspace): Promise<StoredInstallation | null>;
  /** Forgets the workspace's installation (uninstalled, or its bot token revoked); true when there was one. */
  deleteInstallation(workspace: Workspace): Promise<boolean>;
  /**
   * Seals every installation still under a previous ENCRYPTION_KEY again under the current one (key rotation);
   * `installation()` does the same for the one it reads.
   */
  resealInstallations(): Promise<ResealReport>;
}

export interface ResealReport {
  /** Sealed again under the current key by this call. */
  resealed: number;
  /** Already under the current key. */
  current: number;
  /** Under a key this process was not given, or changed: they still need that key, or a new install. */
  unreadable: { workspace: Workspace; code: string }[];
}
