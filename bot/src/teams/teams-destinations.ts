// Scheduled lunch polls in a Teams conversation: the poll's card posted proactively (tracked, so it stays current and
// the tally sync replies its winner once), the one reminder, and the result when no tracked card is left to carry it.
// Direct nudges are not sent in Teams: a proactive 1:1 chat needs the person's installed personal scope, which the
// bot does not track; the reminder in the conversation reaches everyone.
import type { Core, LunchDestination, LunchDestinations, Poll } from '@livevote/core';
import { winnerText } from '@livevote/core';
import type { Leader, Snapshot } from '@livevote/core/protocol';
import type { Outcome } from '../delivery/contract.ts';
import { cardAttachment } from './poll-card.ts';
import type { PostResult } from './proactive.ts';

export interface TeamsDestinationDeps {
  core: Pick<Core, 'chat'>;
  publicUrl: string;
  /** The Teams app's proactive post of a poll's card (teams-app.ts `postPoll`). */
  postPoll(conversationId: string, pollId: string): Promise<PostResult>;
  /** One activity to a stored conversation, in a message's thread with `replyTo` (proactive.ts `sendToConversation`). */
  send(conversationId: string, activity: object, replyTo?: string): Promise<Outcome>;
}

type TeamsDestination = Extract<LunchDestination, { kind: 'teams' }>;

function teamsOnly(d: LunchDestination): TeamsDestination {
  if (d.kind !== 'teams') throw new Error(`a ${d.kind} destination reached the Teams adapter`);
  return d;
}

const failed = (o: Exclude<Outcome, { ok: true }>, what: string) =>
  new Error(`Teams refused the ${what} (${o.kind}: ${o.reason})`);

/**
 * The reminder: a small Adaptive Card, because only a card can show a time in each reader's own zone (Teams renders
 * `{{TIME(…)}}` locally; it takes RFC 3339 without fractions of a second). `summary` is what a notification shows.
 */
export function teamsReminder(poll: Poll, leader: Leader | null, publicUrl: string): object {
  const at = poll.closes_at
    ? ` at {{TIME(${new Date(poll.closes_at).toISOString().replace(/\.\d{3}Z$/, 'Z')})}}`
    : ' soon';
  const lead = leader
    ? `**${leader.label}** leads with ${leader.vote_count} vote${leader.vote_count === 1 ? '' : 's'}.`
    : 'Nobody leads yet.';
  const card = {
    type: 'AdaptiveCard',
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    version: '1.5',
    body: [{ type: 'TextBlock', wrap: true, text: `⏰ **${poll.title}** closes${at}. ${lead}` }],
    actions: [{ type: 'Action.OpenUrl', title: 'Vote', url: `${publicUrl}/p/${poll.id}` }],
  };
  return { type: 'message', summary: `${poll.title} closes soon`, attachments: [cardAttachment(card)] };
}

export function teamsDestinations(deps: TeamsDestinationDeps): LunchDestinations {
  const send = async (d: TeamsDestination, text: string, what: string) => {
    const r = await deps.send(d.conversation, { type: 'message', textFormat: 'markdown', text });
    if (!r.ok) throw failed(r, what);
  };
  return {
    async postPoll(dest, poll: Poll) {
      const d = teamsOnly(dest);
      const r = await deps.postPoll(d.conversation, poll.id);
      if (!r.ok) throw failed(r, 'poll card');
    },
    async remind(dest, poll: Poll, leader: Leader | null) {
      const d = teamsOnly(dest);
      // Under the poll's own card when it was posted here, so the channel keeps one thread per lunch.
      const card = (await deps.core.chat.chatMessages(poll.id)).find(
        (m) => m.platform === 'teams' && m.channel === d.conversation,
      );
      const r = await deps.send(
        d.conversation,
        teamsReminder(poll, leader, deps.publicUrl),
        card?.message_id,
      );
      if (!r.ok) throw failed(r, 'reminder');
    },
    async nudge(dest) {
      teamsOnly(dest); // see the file comment: no direct nudges in Teams
    },
    async announce(dest, poll: Poll, result: { snapshot: Snapshot }) {
      const d = teamsOnly(dest);
      // A tracked card gets its winner reply from the tally sync; one here would be the second.
      const tracked = (await deps.core.chat.chatMessages(poll.id)).some(
        (m) => m.platform === 'teams' && m.channel === d.conversation,
      );
      if (tracked) return;
      await send(d, `**${poll.title}**: ${winnerText(result.snapshot, (n) => `**${n}**`)}`, 'result');
    },
  };
}
