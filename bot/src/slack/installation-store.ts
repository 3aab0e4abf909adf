// Bolt's InstallationStore over ours (core's port, sealed in Postgres/PGlite): an installation is kept under its
// workspace, `slack:<team>` or `slack:<enterprise>` for an org-wide install, exactly the key polls are kept under.
import { type InstallationStore as Installations, slackWorkspace } from '@livevote/core';
import type { Installation, InstallationQuery, InstallationStore } from '@slack/bolt';

/** What Bolt's InstallationQuery and a request's ids both carry. */
export interface SlackIds {
  teamId?: string | null;
  enterpriseId?: string | null;
  isEnterpriseInstall?: boolean | null;
}

export class NotInstalledError extends Error {
  readonly code = 'slack_not_installed';
  constructor(readonly workspace: string | null) {
    super(`livevote is not installed in ${workspace ?? 'this Slack workspace'}`);
  }
}

export const installationWorkspace = (i: Installation): string | null =>
  slackWorkspace({
    teamId: i.team?.id,
    enterpriseId: i.enterprise?.id,
    isEnterpriseInstall: i.isEnterpriseInstall,
  });

export function boltInstallationStore(installations: Installations): InstallationStore {
  return {
    async storeInstallation(installation) {
      const workspace = installationWorkspace(installation);
      if (!workspace) throw new Error('Slack handed over an installation without a team or enterprise id');
      await installations.saveInstallation({
        workspace,
        platform: 'slack',
        installedBy: installation.user?.id ?? null,
        // Bolt's installation is plain JSON: kept whole (sealed), so a later Bolt finds every field it wrote.
        credentials: { ...installation },
      });
    },
    async fetchInstallation(query: InstallationQuery<boolean>) {
      const workspace = slackWorkspace(query);
      const found = workspace ? await installations.installation(workspace) : null;
      if (!found) throw new NotInstalledError(workspace);
      return found.credentials as unknown as Installation;
    },
    async deleteInstallation(query: InstallationQuery<boolean>) {
      const workspace = slackWorkspace(query);
      if (workspace) await installations.deleteInstallation(workspace);
    },
  };
}
