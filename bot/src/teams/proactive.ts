// Posting a poll's card to a Teams conversation nobody just spoke in (a scheduled lunch poll): the conversation's
// stored reference says where (service URL as the SDK normalises it, captured from a validated activity), and the
// message is tracked like any other so it stays current and announces its winner.
import type { ChatMessage, Core } from '@livevote/core';
import type { Outcome } from '../delivery/contract.ts';
import type { TallySync } from '../tally/tally-sync.ts';
import { cardAttachment } from './poll-card.ts';
import {
  classifyTeamsError,
  sharedCard,
  type TeamsDeliveryDeps,
  type TeamsMessageMeta,
} from './teams-delivery.ts';

export type PostResult = { ok: true; message: ChatMessage } | Exclude<Outcome, { ok: true }>;

export interface ProactiveDeps extends TeamsDeliveryDeps {
  core: Pick<Core, 'snapshots' | 'conversations'>;
  tally: Pick<TallySync, 'track'>;
}

/** The conversation's stored reference, if it is known and its service URL is one we may call. */
async function allowedReference(deps: Omit<ProactiveDeps, 'tally'>, conversationId: string) {
  const c = await deps.core.conversations.conversation('teams', conversationId);
  if (!c) return { ok: false, kind: 'permanent', reason: 'unknown_conversation' } as const;
  if (!deps.serviceUrlAllowed(c.reference.serviceUrl))
    return { ok: false, kind: 'permanent', reason: 'service_url_not_allowed' } as const;
  return c.reference;
}

export async function postPollCard(
  deps: ProactiveDeps,
  conversationId: string,
  pollId: string,
): Promise<PostResult> {
  try {
    const ref = await allowedReference(deps, conversationId);
    if ('ok' in ref) return ref;
    const [poll, snapshot] = await Promise.all([
      deps.core.snapshots.poll(pollId),
      deps.core.snapshots.fresh(pollId),
    ]);
    if (!poll || !snapshot) return { ok: false, kind: 'permanent', reason: 'poll_gone' };
    const card = await sharedCard(deps, poll, snapshot);
    const activities = deps.connector(ref.serviceUrl).conversations.activities(ref.conversationId);
    const sent = await activities.create({ type: 'message', attachments: [cardAttachment(card)] });
    if (!sent.id) return { ok: false, kind: 'retry', reason: 'no_activity_id' };
    const meta: TeamsMessageMeta = {
      serviceUrl: ref.serviceUrl,
      tenantId: ref.tenantId,
      botId: ref.botId,
      ...(ref.conversationType ? { conversationType: ref.conversationType } : {}),
    };
    const message: ChatMessage = {
      platform: 'teams',
      channel: ref.conversationId,
      message_id: sent.id,
      poll_id: pollId,
      meta: { ...meta },
    };
    try {
      await deps.tally.track(message);
    } catch {
      // Posted but not tracked (the database did not answer): the card would never update, and the retry posts a
      // new one. Take this one down (best effort) so the conversation is left with one card.
      await activities.delete?.(sent.id).catch(() => undefined);
      return { ok: false, kind: 'retry', reason: 'not_tracked' };
    }
    return { ok: true, message };
  } catch (err) {
    const o = await failed(deps, conversationId, err);
    return o.ok ? { ok: false, kind: 'retry', reason: 'error' } : o;
  }
}

/**
 * What a failed proactive call means; a 403 says the bot was removed from the conversation, so it is forgotten: no
 * later schedule, reminder or result tries it again until the bot is added back (which stores it anew).
 */
async function failed(
  deps: Omit<ProactiveDeps, 'tally'>,
  conversationId: string,
  err: unknown,
): Promise<Outcome> {
  const o = classifyTeamsError(err);
  if (!o.ok && o.kind === 'permanent' && o.reason === 'bot_removed')
    await deps.core.conversations.forgetConversation('teams', conversationId).catch(() => {});
  return o;
}

/**
 * Sends one activity (a reminder, a result) to a conversation nobody just spoke in, by its stored reference. With
 * `replyTo` (a message of the bot's there) it goes into that message's thread in a channel, and quotes it in a chat,
 * which has no threads.
 */
export async function sendToConversation(
  deps: Omit<ProactiveDeps, 'tally'>,
  conversationId: string,
  activity: object,
  replyTo?: string,
): Promise<Outcome> {
  try {
    const ref = await allowedReference(deps, conversationId);
    if ('ok' in ref) return ref;
    const post = (to?: string) => {
      const threaded = to !== undefined && ref.conversationType === 'channel';
      return deps
        .connector(ref.serviceUrl)
        .conversations.activities(threaded ? `${ref.conversationId};messageid=${to}` : ref.conversationId)
        .create(to !== undefined && !threaded ? { ...activity, replyToId: to } : activity);
    };
    if (replyTo !== undefined) {
      try {
        await post(replyTo);
        return { ok: true };
      } catch (err) {
        // The message replied to may be deleted, or replies refused (a moderated channel answers 403 while the bot
        // is still there): the activity still goes, on its own. Only a refusal of that says the bot was removed.
        const o = classifyTeamsError(err);
        if (o.ok || o.kind !== 'permanent') return o;
      }
    }
    await post();
    return { ok: true };
  } catch (err) {
    return failed(deps, conversationId, err);
  }
}
