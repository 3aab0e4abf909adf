// Who votes: a platform identity, or an employee number that several platform identities map to.

export type Platform = 'web' | 'slack' | 'teams';

export interface Voter {
  platform: Platform;
  /** Slack team / Teams tenant; empty for the web. */
  tenant: string;
  /** The platform's user id (for the web in open mode: the emp_no). */
  user: string;
  /** Known employee number: then the vote is that person's everywhere. */
  emp_no?: string;
  /**
   * The workspace a signed voter link vouched for this identity in (the poll's it was issued for): such a voter acts
   * only on that workspace's polls and the web workspace's. Absent for identities the platform itself vouched for
   * (a Slack click, a Teams action) and for links issued before links named their workspace.
   */
  workspace?: string;
}

/** Whether this voter may act on (vote in, read their ballot of) a poll of `pollWorkspace`. */
export const mayActIn = (v: Voter, pollWorkspace: string): boolean =>
  v.workspace === undefined || v.workspace === pollWorkspace || pollWorkspace === 'web';

export const webVoter = (empNo: string): Voter => ({
  platform: 'web',
  tenant: '',
  user: empNo,
  emp_no: empNo,
});

/**
 * The one key a person is known by: `emp:<number>` when the employee number is known, else
 * `<platform>:<tenant>:<user>`. Ballots, creators, closers and added options all use it. The store applies the same
 * rule in SQL (lv_voter_key), where it also consults the directory for identities that arrive without an emp_no.
 */
export const voterKey = (v: Voter): string =>
  v.emp_no ? `emp:${v.emp_no}` : `${v.platform}:${v.tenant}:${v.user}`;
