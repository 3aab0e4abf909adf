import { describe, expect, it } from 'vitest';
import { slackAdminCheck, type UsersInfoClient } from './workspace-admin.ts';

/** A users.info that answers as Slack does: a user object, or (like the SDK) throws a platform error for ok:false. */
function client(answers: Record<string, object | string>) {
  const calls: string[] = [];
  const c: UsersInfoClient = {
    users: {
      async info({ user }) {
        calls.push(user);
        const a = answers[user];
        if (typeof a === 'string')
          throw Object.assign(new Error(`An API error occurred: ${a}`), {
            code: 'slack_webapi_platform_error',
            data: { ok: false, error: a },
          });
        return { ok: true, user: a as object };
      },
    },
  };
  return { c, calls };
}

describe('slackAdminCheck', () => {
  it('says yes for admins, owners and primary owners, no for members and deactivated admins', async () => {
    const { c } = client({
      UADMIN: { is_admin: true },
      UOWNER: { is_owner: true },
      UPRIMARY: { is_primary_owner: true },
      UMEMBER: { is_admin: false },
      UGONE: { is_admin: true, deleted: true },
    });
    const check = slackAdminCheck();
    const answers = await Promise.all(
      ['UADMIN', 'UOWNER', 'UPRIMARY', 'UMEMBER', 'UGONE'].map((u) => check(c, 'T1', u)),
    );
    expect(answers).toEqual([true, true, true, false, false]);
  });

  it('says no when Slack refuses (missing_scope, ratelimited) and does not remember the failure', async () => {
    const warned: object[] = [];
    const answers: Record<string, object | string> = { U1: 'missing_scope' };
    const { c, calls } = client(answers);
    const check = slackAdminCheck({ log: { warn: (o) => void warned.push(o) } });
    expect(await check(c, 'T1', 'U1')).toBe(false);
    expect(warned).toEqual([{ error: 'missing_scope' }]);
    answers.U1 = { is_admin: true }; // the scope was granted: the next ask goes to Slack again
    expect(await check(c, 'T1', 'U1')).toBe(true);
    expect(calls).toEqual(['U1', 'U1']);
  });

  it('keeps an answer five minutes per workspace and user', async () => {
    let t = 0;
    const { c, calls } = client({ U1: { is_admin: true } });
    const check = slackAdminCheck({ now: () => t });
    await check(c, 'T1', 'U1');
    t = 4 * 60_000;
    await check(c, 'T1', 'U1');
    await check(c, 'T2', 'U1');
    expect(calls).toEqual(['U1', 'U1']);
    t = 6 * 60_000;
    await check(c, 'T1', 'U1');
    expect(calls).toEqual(['U1', 'U1', 'U1']);
  });
});
