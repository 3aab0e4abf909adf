// Who may change a workspace's lunch places and lunch schedules from chat. The catalog and the schedules belong to
// the whole workspace: with `admins` (the default) only the platform's own admins change them — Slack workspace
// admins and owners, Teams owners of the team or group chat — while everyone may still read them and start a
// lunch poll. `everyone` suits a small team that trusts itself. The web admin (ADMIN_TOKEN) may always.
export type LunchEditors = 'everyone' | 'admins';

/** Whether this person may change the lunch places or schedule; asks the platform only when the policy needs it. */
export async function mayEditLunch(editors: LunchEditors, isAdmin: () => Promise<boolean>): Promise<boolean> {
  return editors === 'everyone' || (await isAdmin());
}

/** What a person who may not is told (the platform names its own admins). */
export const lunchEditRefusal = (admins: string): string =>
  `Only ${admins} can change the lunch places and the lunch schedule here; ask one of them, or use the web admin.`;
