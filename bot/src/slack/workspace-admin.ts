// Whether a Slack user administers their workspace (admin, owner or primary owner), as `users.info` says (scope
// users:read). Each answer is kept five minutes; any failure (a missing scope, an error Slack answers with HTTP 200
// and ok:false, a rate limit) answers "no" and is logged, so a broken check never widens who may edit.

/** What the check needs of Bolt's WebClient. */
export interface UsersInfoClient {
  users: {
    info(args: { user: string }): Promise<{
      ok?: boolean;
      user?: { is_admin?: boolean; is_owner?: boolean; is_primary_owner?: boolean; deleted?: boolean };
    }>;
  };
}

const CACHE_MS = 5 * 60_000;
const CACHE_MAX = 10_000;

export function slackAdminCheck(
  o: { log?: { warn(o: object, m?: string): void }; now?: () => number } = {},
): (client: UsersInfoClient, team: string, user: string) => Promise<boolean> {
  const now = o.now ?? Date.now;
  const cache = new Map<string, { at: number; admin: boolean }>();
  return async (client, team, user) => {
    const key = `${team}|${user}`;
    const hit = cache.get(key);
    if (hit && now() - hit.at < CACHE_MS) return hit.admin;
    let admin = false;
    try {
      const r = await client.users.info({ user });
      const u = r.ok === false ? undefined : r.user;
      admin = !!u && !u.deleted && !!(u.is_admin || u.is_owner || u.is_primary_owner);
    } catch (err) {
      o.log?.warn(
        { error: String((err as { data?: { error?: string } }).data?.error ?? err) },
        'Slack admin check failed',
      );
      return false;
    }
    cache.set(key, { at: now(), admin });
    if (cache.size > CACHE_MAX) cache.delete(cache.keys().next().value as string);
    return admin;
  };
}
