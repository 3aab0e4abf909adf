// Scheduled lunch polls in a Teams conversation: the poll's card posted proactively (tracked, so it stays current and
// the tally sync replies its winner once), the one reminder, and the result when no tracked card is left to carry it.
// Direct nudges are not sent in Teams: a proactive 1:1 chat needs the person's installed personal scope, which the
// bot does not track; the reminder in the conversation reaches everyone.
import type { Core, LunchDestination, LunchDestinations, Poll } from '@livevote/core';
import { winnerText } from '@livevote/core';
import type { Leader, Snapshot } from '@livevote/core/protocol';
import type { Outcome } from '../delivery/contract.ts';
import type { PostResult } from './proactive.ts';

export interface TeamsDestinationDeps {
  core: Pick<Core, 'chat'>;
  publicUrl: string;
  /** The Teams app's proactive post of a poll's card (teams-app.ts `postPoll`). */
  postPoll(conversationId: string, pollId: string): Promise<PostResult>;
  /** One plain activity to a stored conversation (proactive.ts `sendToConversation`). */
  send(conversationId: string, activity: object): Promise<Outcome>;
}

type TeamsDestination = Extract<LunchDestination, { kind: 'teams' }>;

function teamsOnly(d: LunchDestination): TeamsDestination {
  if (d.kind !== 'teams') throw new Error(`a ${d.kind} destination reached the Teams adapter`);
  return d;
}

const failed = (o: Exclude<Outcome, { ok: true }>, what: string) =>
  new Error(`Teams refused the ${what} (${o.kind}: ${o.reason})`);

export function teamsReminderText(poll: Poll, leader: Leader | null, publicUrl: string): string {
  const at = poll.closes_at ? ` at ${poll.closes_at.slice(11, 16)} UTC` : ' soon';
  const lead = leader
    ? `**${leader.label}** leads with ${leader.vote_count} vote${leader.vote_count === 1 ? '' : 's'}.`
    : 'Nobody leads yet.';
  return `⏰ **${poll.title}** closes${at}. ${lead} [Vote](${publicUrl}/p/${poll.id})`;
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
      await send(teamsOnly(dest), teamsReminderText(poll, leader, deps.publicUrl), 'reminder');
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
