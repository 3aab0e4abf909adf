// The conversation reference of a Teams activity, normalised the way the Teams SDK does for its own calls: Teams sends
// `serviceUrl` with a trailing slash (`https://smba.trafficmanager.net/amer/`), and a client built from that raw value
// calls `…/amer//v3/conversations/…`. Everything we store and every client we build goes through here.
import type { ConversationReference } from '@livevote/core';

/** The service URL without trailing slashes (what the SDK strips before its own calls). */
export const normaliseServiceUrl = (url: string): string => url.replace(/\/+$/, '');

/** The parts of an incoming activity a reference is made of (typed loosely: the SDK's activity types are wide). */
export interface ActivityLike {
  serviceUrl?: string;
  conversation?: { id?: string; tenantId?: string; conversationType?: string };
  recipient?: { id?: string; name?: string };
  channelData?: { tenant?: { id?: string }; team?: { id?: string } };
}

/** The reference of the conversation an activity came from, or null when it lacks what a post needs. */
export function referenceOf(a: ActivityLike): ConversationReference | null {
  const serviceUrl = a.serviceUrl ? normaliseServiceUrl(a.serviceUrl) : '';
  const conversationId = a.conversation?.id;
  const tenantId = a.conversation?.tenantId ?? a.channelData?.tenant?.id;
  const botId = a.recipient?.id;
  if (!serviceUrl || !URL.canParse(serviceUrl) || !conversationId || !tenantId || !botId) return null;
  return {
    serviceUrl,
    conversationId,
    tenantId,
    botId,
    ...(a.recipient?.name ? { botName: a.recipient.name } : {}),
    ...(a.conversation?.conversationType ? { conversationType: a.conversation.conversationType } : {}),
    ...(a.channelData?.team?.id ? { teamId: a.channelData.team.id } : {}),
  };
}

/**
 * The conversation a channel reply thread belongs to: Teams names a thread `19:…@thread.tacv2;messageid=123`; posts
 * and schedules belong to the channel, so its reference is stored under the channel's own id.
 */
export const channelOf = (conversationId: string): string => conversationId.replace(/;messageid=\d+$/, '');
