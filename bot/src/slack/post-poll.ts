// Posting a poll's shared message in a Slack channel: the Block Kit message, pinned, and tracked so the delivery
// engine keeps it current and replies the winner in its thread once. Used by /lunch and /vote and by scheduled polls.
import type { Poll } from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';
import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { TallySync } from '../tally/tally-sync.ts';
import { renderPoll } from './render-poll.ts';
import { classifySlackError } from './slack-errors.ts';

export interface PostPollDeps {
  tally: Pick<TallySync, 'track'>;
  publicUrl: string;
  log: { warn(o: object, m?: string): void };
}

export interface PostTarget {
  channel: string;
  /** The Slack team id (the message's meta; an org-wide install's messages name the team they were posted from). */
  team: string;
  workspace: string;
}

/**
 * The message was posted but could not be tracked (the database did not answer): it would never update, and its
 * buttons would answer for a poll its creator was told failed. It has been deleted again (when Slack let us).
 */
export class PollMessageUntracked extends Error {
  readonly code = 'poll_message_untracked';
  constructor(override readonly cause: unknown) {
    super(`the poll message could not be tracked: ${String(cause)}`);
  }
}

/**
 * Posts, pins and tracks. Throws what Slack's post threw (the caller decides what a refusal means), or
 * PollMessageUntracked when the post went through but tracking it failed (the message is taken down again).
 */
export async function postPollMessage(
  deps: PostPollDeps,
  client: WebClient,
  target: PostTarget,
  poll: Poll,
  snapshot: Snapshot,
): Promise<{
  channel: string;
  ts: string /** Why Slack did not pin it (pinned when absent). */;
  unpinned?: string;
} | null> {
  const msg = renderPoll(poll, snapshot, { publicUrl: deps.publicUrl, voters: {} });
  const posted = await client.chat.postMessage({
    channel: target.channel,
    text: msg.text,
    blocks: msg.blocks as KnownBlock[],
  });
  if (!posted.ts || !posted.channel) return null;
  // The bot posts in any public channel (chat:write.public) but pins only where it is a member: a poll posted in a
  // channel nobody invited it to stays up, unpinned, and the caller says why.
  let unpinned: string | undefined;
  await client.pins.add({ channel: posted.channel, timestamp: posted.ts }).catch((err: unknown) => {
    unpinned = classifySlackError(err).reason;
    deps.log.warn({ reason: unpinned, channel: posted.channel }, 'pinning the poll message failed');
  });
  try {
    await deps.tally.track({
      platform: 'slack',
      channel: posted.channel,
      message_id: posted.ts,
      poll_id: poll.id,
      meta: { team: target.team, workspace: target.workspace },
    });
  } catch (err) {
    await client.chat.delete({ channel: posted.channel, ts: posted.ts }).catch((e: unknown) => {
      deps.log.warn({ err: String(e) }, 'taking down an untracked poll message failed');
    });
    throw new PollMessageUntracked(err);
  }
  return { channel: posted.channel, ts: posted.ts, ...(unpinned ? { unpinned } : {}) };
}
