// Reading a Slack poll back from the fake's calls, and the block_actions payloads a click on it sends.
import type { FakeSlack } from './fake-slack.ts';

/** The poll message whose blocks mention `question`, once posted: its poll id and message ts. */
export function postedPoll(
  slack: FakeSlack,
  question: string,
): { pollId: string; ts: string; channel: string } | null {
  const post = slack
    .of('chat.postMessage')
    .find((c) => c.answer.ok === true && JSON.stringify(c.body.blocks ?? '').includes(question));
  const pollId = JSON.stringify(post?.body.blocks ?? '').match(/"value":"([A-Za-z0-9_-]+)\|o1"/)?.[1];
  if (!post || !pollId) return null;
  return { pollId, ts: String(post.answer.ts), channel: String(post.answer.channel) };
}

/** The message's updates, oldest first. */
export const updatesOf = (slack: FakeSlack, ts: string) =>
  slack.of('chat.update').filter((c) => c.body.ts === ts);

/** A click on a button of a poll message, as Slack sends it (block_actions). */
export function clickPayload(o: {
  pollId?: string;
  actionId: string;
  value: string;
  user: string;
  actionTs: string;
  messageTs: string;
  team?: string;
  channel?: string;
}) {
  const team = o.team ?? 'T1';
  const channel = o.channel ?? 'C1';
  return {
    type: 'block_actions',
    team: { id: team },
    user: { id: o.user, team_id: team },
    channel: { id: channel },
    container: { type: 'message', message_ts: o.messageTs, channel_id: channel },
    trigger_id: `trig-${o.actionTs}`,
    actions: [
      { type: 'button', action_id: o.actionId, block_id: 'b', value: o.value, action_ts: o.actionTs },
    ],
  };
}

/** A vote click on option `optionId`. */
export const voteClick = (
  pollId: string,
  optionId: string,
  user: string,
  actionTs: string,
  messageTs: string,
  channel = 'C1',
) =>
  clickPayload({
    actionId: `vote-${optionId}`,
    value: `${pollId}|${optionId}`,
    user,
    actionTs,
    messageTs,
    channel,
  });

/** The place options of an opened /lunch modal, as Slack would send them back when picked (value = catalog id). */
export function modalPlaceOptions(view: unknown): { value: string; text: { type: string; text: string } }[] {
  const blocks =
    (view as { blocks?: { block_id?: string; element?: { options?: unknown[] } }[] }).blocks ?? [];
  const options = blocks.find((b) => b.block_id === 'places')?.element?.options ?? [];
  return options as { value: string; text: { type: string; text: string } }[];
}
