// Teams as a chat platform of the delivery engine: which budgets a call spends (Teams limits each conversation and the
// bot as a whole), how to update a poll's card and post its winner, and what each connector answer means. Every call
// goes to the service URL stored with the message (captured, normalised, from a validated activity) and never throws.
import { type ChatMessage, type Core, isStoreUnavailable, type Poll, winnerText } from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';
import type { Budget, CallKind, ChatPlatform, Outcome } from '../delivery/contract.ts';
import { normaliseServiceUrl } from './conversation-reference.ts';
import { type Card, cardAttachment, pollCard, REFRESH_USERS_MAX } from './poll-card.ts';

/** What a connector call needs of the Teams SDK's API client (`@microsoft/teams.api` Client). */
export interface Connector {
  conversations: {
    activities(conversationId: string): {
      create(activity: object): Promise<{ id?: string }>;
      update(id: string, activity: object): Promise<unknown>;
      /** Takes a card down (one posted but not tracked); test connectors may leave it out. */
      delete?(id: string): Promise<unknown>;
    };
  };
}

/** Teams' documented limits for a bot sending to one conversation, and a ceiling for the bot overall. */
export const TEAMS_CONVERSATION_LIMITS = [
  { points: 7, durationMs: 1_000 },
  { points: 8, durationMs: 2_000 },
  { points: 60, durationMs: 30_000 },
  { points: 1_800, durationMs: 3_600_000 },
] as const;
export const TEAMS_BOT_LIMIT = { points: 50, durationMs: 1_000 } as const;

/** The budgets one call into a conversation spends: each of Teams' windows for it, and the bot's own. */
export function teamsBudgets(m: Pick<ChatMessage, 'channel'>, _call: CallKind): Budget[] {
  // A reply in a channel thread counts against the channel.
  const conversation = m.channel.replace(/;messageid=\d+$/, '');
  return [
    ...TEAMS_CONVERSATION_LIMITS.map((l) => ({
      key: `teams:conversation:${conversation}:${l.durationMs}`,
      points: l.points,
      durationMs: l.durationMs,
    })),
    { key: 'teams:bot', ...TEAMS_BOT_LIMIT },
  ];
}

interface HttpErrorLike {
  code?: string;
  response?: { status?: number; headers?: Record<string, unknown> | { get?(name: string): unknown } };
}

/** Retry-After in ms: seconds, or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(headers: unknown, now: number): number | undefined {
  if (!headers || typeof headers !== 'object') return undefined;
  const h = headers as Record<string, unknown> & { get?: (n: string) => unknown };
  const raw = typeof h.get === 'function' ? h.get('retry-after') : (h['retry-after'] ?? h['Retry-After']);
  if (raw === undefined || raw === null || raw === '') return undefined;
  const text = String(raw).trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

/**
 * What a failed connector call means: 429 (with Retry-After), 412 (a concurrent update), 5xx and network errors are
 * worth another try; 403 (the bot was removed), 404 (the message or conversation is gone) and 413 (too large, and it
 * will stay so) never are. Other answers are retried: the engine's backoff is capped.
 */
export function classifyTeamsError(err: unknown, now: number = Date.now()): Outcome {
  if (isStoreUnavailable(err)) return { ok: false, kind: 'retry', reason: 'store_unavailable' };
  const e = (err ?? {}) as HttpErrorLike;
  const status = e.response?.status;
  if (status === undefined) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    return { ok: false, kind: 'retry', reason: code ? `network:${code}` : 'error' };
  }
  if (status === 429) {
    const after = retryAfterMs(e.response?.headers, now);
    return {
      ok: false,
      kind: 'retry',
      reason: 'rate_limited',
      rateLimited: true,
      ...(after !== undefined ? { retryAfterMs: after } : {}),
    };
  }
  if (status === 403) return { ok: false, kind: 'permanent', reason: 'bot_removed' };
  if (status === 404) return { ok: false, kind: 'permanent', reason: 'not_found' };
  if (status === 413) return { ok: false, kind: 'permanent', reason: 'too_large' };
  if (status === 400) return { ok: false, kind: 'permanent', reason: 'bad_request' };
  if (status === 412) return { ok: false, kind: 'retry', reason: 'precondition_failed' };
  if (status >= 500) return { ok: false, kind: 'retry', reason: `http_${status}` };
  return { ok: false, kind: 'retry', reason: `http_${status}` };
}

/** What a Teams message row keeps: where its conversation is served from and what kind it is. */
export interface TeamsMessageMeta {
  serviceUrl: string;
  tenantId?: string;
  botId?: string;
  conversationType?: string;
}

export interface TeamsDeliveryDeps {
  core: Pick<Core, 'snapshots' | 'conversations'>;
  publicUrl: string;
  /** A connector client with the bot's own token for a service URL (already normalised). */
  connector(serviceUrl: string): Connector;
  /**
   * Whether a stored service URL may be called. With token validation on, only https URLs (every one was the
   * `serviceUrl` of a validated activity); local development also allows http.
   */
  serviceUrlAllowed(url: string): boolean;
}

/** The card a shared message shows: everyone's tally, refreshing itself for the poll's voters, then its latest viewers. */
export async function sharedCard(
  deps: Pick<TeamsDeliveryDeps, 'core' | 'publicUrl'>,
  poll: Poll,
  s: Snapshot,
): Promise<Card> {
  // Anonymous polls keep no list of who acted on them; their card refreshes by itself only in small conversations.
  const refreshUserIds = poll.settings.anonymous
    ? undefined
    : await deps.core.conversations.cardUsers(poll.id, 'teams', REFRESH_USERS_MAX);
  return pollCard(poll, s, { publicUrl: deps.publicUrl, ...(refreshUserIds ? { refreshUserIds } : {}) });
}

/** The Teams platform for the delivery engine (the new contract). */
export function teamsPlatform(deps: TeamsDeliveryDeps): ChatPlatform {
  const target = (m: ChatMessage): { url: string } | Outcome => {
    const meta = m.meta as Partial<TeamsMessageMeta>;
    const url = typeof meta.serviceUrl === 'string' ? normaliseServiceUrl(meta.serviceUrl) : '';
    if (!url || !URL.canParse(url) || !deps.serviceUrlAllowed(url))
      return { ok: false, kind: 'permanent', reason: 'service_url_not_allowed' };
    return { url };
  };
  /** The bot was removed from the conversation: no proactive posts there until it is back. */
  const forgetIfRemoved = async (m: ChatMessage, o: Outcome): Promise<Outcome> => {
    if (!o.ok && o.kind === 'permanent' && o.reason === 'bot_removed')
      await deps.core.conversations
        .forgetConversation('teams', m.channel.replace(/;messageid=\d+$/, ''))
        .catch(() => {});
    return o;
  };

  return {
    name: 'teams',
    budgets: teamsBudgets,
    async update(m, s) {
      const t = target(m);
      if (!('url' in t)) return t;
      try {
        const poll = await deps.core.snapshots.poll(m.poll_id);
        if (!poll) return { ok: false, kind: 'permanent', reason: 'poll_gone' };
        const card = await sharedCard(deps, poll, s);
        await deps
          .connector(t.url)
          .conversations.activities(m.channel)
          .update(m.message_id, { type: 'message', attachments: [cardAttachment(card)] });
        return { ok: true };
      } catch (err) {
        return forgetIfRemoved(m, classifyTeamsError(err));
      }
    },
    async announceWinner(m, s) {
      const t = target(m);
      if (!('url' in t)) return t;
      const meta = m.meta as Partial<TeamsMessageMeta>;
      // In a channel a reply is a post in the message's thread; chats have no threads, so it quotes the card.
      const threaded = meta.conversationType === 'channel' && !m.channel.includes(';messageid=');
      const conversation = threaded ? `${m.channel};messageid=${m.message_id}` : m.channel;
      try {
        await deps
          .connector(t.url)
          .conversations.activities(conversation)
          .create({
            type: 'message',
            text: winnerText(s, (name) => `**${name}**`),
            ...(threaded ? {} : { replyToId: m.message_id }),
          });
        return { ok: true };
      } catch (err) {
        return forgetIfRemoved(m, classifyTeamsError(err));
      }
    },
  };
}
