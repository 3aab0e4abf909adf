// Who may close any poll of a Teams conversation besides its creator: an owner of the team (for a channel) or of the
// group chat, as Microsoft Graph says. The app reads only the membership of the team or chat it is installed in
// (resource-specific consent: TeamMember.Read.Group, ChatMember.Read.Chat in the manifest), with its own token.
export interface AdminQuestion {
  tenantId: string;
  /** The person's Entra object id (Teams `from.aadObjectId`). */
  aadObjectId?: string;
  /** The team's Microsoft 365 group id (Teams `channelData.team.aadGroupId`), for a channel. */
  teamGroupId?: string;
  /** The chat's id (the conversation id), for a group chat. */
  chatId?: string;
}

export interface GraphAdminDeps {
  /** An app token for Microsoft Graph in this tenant, or null without credentials. */
  graphToken(tenantId: string): Promise<string | null>;
  /** Graph's base URL (tests point it at a fake). */
  graphUrl?: string;
  log?: { warn(o: object, m?: string): void };
  now?: () => number;
}

interface Member {
  userId?: string;
  roles?: string[];
}

const CACHE_MS = 5 * 60_000;

/** A check that answers from Graph, caching each answer for five minutes; any failure answers "no". */
export function graphOwnerCheck(deps: GraphAdminDeps): (q: AdminQuestion) => Promise<boolean> {
  const base = (deps.graphUrl ?? 'https://graph.microsoft.com').replace(/\/+$/, '');
  const now = deps.now ?? Date.now;
  const cache = new Map<string, { at: number; owner: boolean }>();

  async function members(q: AdminQuestion, token: string): Promise<Member[]> {
    const user = q.aadObjectId ?? '';
    const url = q.teamGroupId
      ? `${base}/v1.0/teams/${encodeURIComponent(q.teamGroupId)}/members?$filter=${encodeURIComponent(
          `(microsoft.graph.aadUserConversationMember/userId eq '${user.replace(/'/g, "''")}')`,
        )}`
      : `${base}/v1.0/chats/${encodeURIComponent(q.chatId ?? '')}/members`;
    const res = await fetch(url, {
      headers: { authorization: `Bearer ${token}` },
      signal: AbortSignal.timeout(5_000),
    });
    if (!res.ok) throw new Error(`Graph answered ${res.status}`);
    return ((await res.json()) as { value?: Member[] }).value ?? [];
  }

  return async (q) => {
    if (!q.aadObjectId || (!q.teamGroupId && !q.chatId)) return false;
    const key = `${q.tenantId}|${q.teamGroupId ?? q.chatId}|${q.aadObjectId}`;
    const hit = cache.get(key);
    if (hit && now() - hit.at < CACHE_MS) return hit.owner;
    let owner = false;
    try {
      const token = await deps.graphToken(q.tenantId);
      if (!token) return false;
      owner = (await members(q, token)).some(
        (m) => m.userId === q.aadObjectId && (m.roles ?? []).includes('owner'),
      );
    } catch (err) {
      deps.log?.warn({ error: String(err) }, 'Teams owner check failed; only the creator may close');
      return false;
    }
    cache.set(key, { at: now(), owner });
    if (cache.size > 10_000) cache.delete(cache.keys().next().value as string);
    return owner;
  };
}
