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
}

export const webVoter = (empNo: string): Voter => ({
  platform: 'web',
  tenant: '',
  user: empNo,
  emp_no: empNo,
});

/** The key a ballot is stored under when no directory entry maps the identity to an emp_no. */
export const platformKey = (v: Voter): string => `${v.platform}:${v.tenant}:${v.user}`;
