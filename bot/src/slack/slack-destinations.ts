// Scheduled lunch polls in a Slack channel: the poll's message (posted, pinned and tracked like /lunch's), the one
// reminder in its thread, direct nudges, and the result. The result reply in the thread comes from the tally sync
// (DeliveryEngine → announceWinner) for every tracked message, so `announce` only speaks when no tracked message
// of this poll is left in the channel: exactly one winner reply either way.
import type { ChatMessage, Core, LunchDestination, LunchDestinations, Poll } from '@livevote/core';
import { winnerText } from '@livevote/core';
import type { Leader, Snapshot } from '@livevote/core/protocol';
import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { escapeMrkdwn as esc } from './mrkdwn.ts';
import { type PostPollDeps, postPollMessage } from './post-poll.ts';

export const NUDGE_OPT_OUT = 'lunch-nudge-opt-out';

export interface SlackDestinationDeps extends PostPollDeps {
  core: Pick<Core, 'chat' | 'directory'>;
  /** A Web API client holding the workspace's bot token; undefined when the app is not installed there. */
  clientFor(workspace: string): Promise<WebClient | undefined>;
}

type SlackDestination = Extract<LunchDestination, { kind: 'slack' }>;

function slackOnly(d: LunchDestination): SlackDestination {
  if (d.kind !== 'slack') throw new Error(`a ${d.kind} destination reached the Slack adapter`);
  return d;
}

/** The team id of a workspace id (`slack:T1` → T1; an org-wide install's is the enterprise id). */
const teamOfWorkspace = (workspace: string) => workspace.slice('slack:'.length);

/**
 * The Slack user behind a voter key: `slack:T:U` directly, `emp:N` through the workspace's directory; null when the
 * person has no Slack identity here (a web-only voter is never nudged in Slack).
 */
export async function slackUserOf(
  directory: Core['directory'],
  workspace: string,
  key: string,
): Promise<string | null> {
  const [platform, tenant, user] = key.split(':');
  if (platform === 'slack' && tenant !== undefined && user) return user;
  if (platform !== 'emp' || !tenant) return null;
  const entry = (await directory.directory(workspace)).find(
    (e) => e.platform === 'slack' && e.emp_no === tenant,
  );
  return entry?.user ?? null;
}

/** The voter key of a Slack user as the ballots know it: `emp:N` when the directory maps them, else `slack:T:U`. */
export async function voterKeyOfSlackUser(
  directory: Core['directory'],
  workspace: string,
  team: string,
  user: string,
): Promise<string> {
  const entry = (await directory.directory(workspace)).find((e) => e.platform === 'slack' && e.user === user);
  return entry ? `emp:${entry.emp_no}` : `slack:${team}:${user}`;
}

const closesAtText = (poll: Poll) =>
  poll.closes_at
    ? `<!date^${Math.floor(Date.parse(poll.closes_at) / 1000)}^{time}|${poll.closes_at}>`
    : 'soon';

export function reminderText(poll: Poll, leader: Leader | null): string {
  const lead = leader
    ? `*${esc(leader.label)}* leads with ${leader.vote_count} vote${leader.vote_count === 1 ? '' : 's'}.`
    : 'Nobody leads yet.';
  return `:alarm_clock: *${esc(poll.title)}* closes at ${closesAtText(poll)}. ${lead}`;
}

export function slackDestinations(deps: SlackDestinationDeps): LunchDestinations {
  const clientOf = async (d: SlackDestination) => {
    const client = await deps.clientFor(d.workspace);
    if (!client) throw new Error(`the Slack app is not installed in ${d.workspace}`);
    return client;
  };
  /** This poll's tracked message in the destination's channel (the thread reminders and results go to). */
  const trackedIn = async (d: SlackDestination, pollId: string): Promise<ChatMessage | undefined> =>
    (await deps.core.chat.chatMessages(pollId)).find(
      (m) => m.platform === 'slack' && m.channel === d.channel,
    );
  const voteButton = (poll: Poll) => ({
    type: 'button',
    text: { type: 'plain_text', text: 'Vote' },
    style: 'primary',
    url: `${deps.publicUrl}/p/${poll.id}`,
    action_id: 'open-board',
  });

  return {
    async postPoll(dest, poll: Poll, snapshot: Snapshot) {
      const d = slackOnly(dest);
      // Throws when Slack refuses (not in the channel, archived…): the run stays unposted and the ritual logs it.
      await postPollMessage(
        deps,
        await clientOf(d),
        { channel: d.channel, team: teamOfWorkspace(d.workspace), workspace: d.workspace },
        poll,
        snapshot,
      );
    },

    async remind(dest, poll: Poll, leader: Leader | null) {
      const d = slackOnly(dest);
      const client = await clientOf(d);
      const tracked = await trackedIn(d, poll.id);
      const text = reminderText(poll, leader);
      await client.chat.postMessage({
        channel: d.channel,
        ...(tracked ? { thread_ts: tracked.message_id } : {}),
        text,
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text } },
          { type: 'actions', elements: [voteButton(poll)] },
        ] as KnownBlock[],
      });
    },

    async nudge(dest, poll: Poll, voterKey: string) {
      const d = slackOnly(dest);
      const user = await slackUserOf(deps.core.directory, d.workspace, voterKey);
      if (!user) return; // no Slack identity in this workspace: nothing to nudge here
      const client = await clientOf(d);
      const text = `:wave: *${esc(poll.title)}* in <#${d.channel}> closes at ${closesAtText(poll)} and you have not voted yet.`;
      // A message to a user id lands in their DM with the app.
      await client.chat.postMessage({
        channel: user,
        text,
        blocks: [
          { type: 'section', text: { type: 'mrkdwn', text } },
          {
            type: 'actions',
            elements: [
              voteButton(poll),
              {
                type: 'button',
                text: { type: 'plain_text', text: 'No more nudges' },
                action_id: NUDGE_OPT_OUT,
                value: d.workspace,
              },
            ],
          },
        ] as KnownBlock[],
      });
    },

    async announce(dest, poll: Poll, result: { snapshot: Snapshot; decision: unknown }) {
      const d = slackOnly(dest);
      // A tracked message gets its winner reply from the tally sync; one here would be the second.
      if (await trackedIn(d, poll.id)) return;
      const client = await clientOf(d);
      await client.chat.postMessage({
        channel: d.channel,
        text: `*${esc(poll.title)}*: ${winnerText(result.snapshot, (n) => `*${esc(n)}*`)}`,
      });
    },
  };
}
