// Which workspace a chat interaction belongs to. Everything a workspace owns is shown only inside it.

export type Workspace = string;

/**
 * A Slack workspace: the team, or the enterprise for an org-wide (Enterprise Grid) install, where one install
 * serves every team of the organisation.
 */
export function slackWorkspace(ids: {
  teamId?: string | null;
  enterpriseId?: string | null;
  isEnterpriseInstall?: boolean | null;
}): Workspace | null {
  if (ids.isEnterpriseInstall && ids.enterpriseId) return `slack:${ids.enterpriseId}`;
  return ids.teamId ? `slack:${ids.teamId}` : null;
}

export const teamsWorkspace = (tenantId: string | null | undefined): Workspace | null =>
  tenantId ? `teams:${tenantId}` : null;
