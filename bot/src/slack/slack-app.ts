// The Slack app (Bolt 5): /lunch and /vote create polls, buttons and menus vote, the shared message follows the event
// path. Every request's signature is checked (by the replay guard, then Bolt's receiver) before anything acts on it.
import {
  atMostEvery,
  type ChatMessage,
  type Core,
  castVote,
  catalogOf,
  closePoll,
  createChatPoll,
  issueVoterToken,
  retractVote,
  StoreErrorLog,
  slackWorkspace,
  type Voter,
  voterKey,
  winnerText,
} from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';
import type { AllMiddlewareArgs } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import { Router } from 'express';
import type { SendResult } from '../tally/message-updater.ts';
import type { ChatPlatform, TallySync } from '../tally/tally-sync.ts';
import { createBoltApp, type SlackOAuthOptions } from './bolt-app.ts';
import { LUNCH_MODAL, lunchModal, readLunchModal } from './lunch-modal.ts';
import { parseVoteCommand } from './parse-vote-command.ts';
import { parseVoteValue, renderPoll } from './render-poll.ts';
import { layeredOnce, MemoryOnce, type OnceStore, slackReplayGuard } from './replay-guard.ts';

export interface SlackOptions {
  core: Core;
  tally: TallySync;
  signingSecret: string;
  /** One workspace (SLACK_BOT_TOKEN); or `oauth` for installs in many workspaces (bolt-app.ts). */
  botToken?: string;
  oauth?: SlackOAuthOptions;
  /** Slack's Web API base; tests point it at a local fake. */
  apiUrl?: string;
  /** Socket mode instead of HTTP when set. */
  appToken?: string;
  publicUrl: string;
  /** AUTH_SECRET: "Vote in browser" then hands out a signed personal link. */
  voterTokenSecret?: string;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** The process's log of failed store calls (shared with the other edges); else one of our own. */
  storeErrors?: { report(err: unknown, what: string): boolean };
  /** Where every instance records the signed requests it took (Redis), so a replay is refused by all of them. */
  sharedOnce?: OnceStore;
}

export interface SlackApp {
  /** Express router serving POST /slack/events and the OAuth install routes (socket mode: only the latter, if any). */
  router?: Router;
  platform: ChatPlatform;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Our renderer builds Block Kit as plain JSON (checked by tests and by Slack); the SDK's union type is stricter. */
const asBlocks = (blocks: unknown[]) => blocks as KnownBlock[];

const slackVoter = (team: string | undefined, user: string): Voter => ({
  platform: 'slack',
  tenant: team ?? '',
  user,
});

/** The ids Slack puts in an interaction payload (block actions, view submissions, events). */
interface PayloadIds {
  team?: { id?: string } | null;
  user?: { id: string; team_id?: string };
  enterprise?: { id?: string } | null;
  is_enterprise_install?: boolean;
}
const teamOf = (b: PayloadIds) => b.team?.id ?? b.user?.team_id;
const voterFrom = (b: PayloadIds & { user: { id: string } }) => slackVoter(teamOf(b), b.user.id);
const workspaceOf = (b: PayloadIds) =>
  slackWorkspace({
    teamId: teamOf(b),
    enterpriseId: b.enterprise?.id,
    isEnterpriseInstall: b.is_enterprise_install,
  });

interface RateLimitedError {
  code?: string;
  retryAfter?: number;
  data?: { error?: string };
}

export function createSlackApp(o: SlackOptions): SlackApp {
  const { app, receiver, installRouter } = createBoltApp({
    signingSecret: o.signingSecret,
    ...(o.botToken ? { botToken: o.botToken } : {}),
    ...(o.oauth ? { oauth: o.oauth } : {}),
    ...(o.apiUrl ? { apiUrl: o.apiUrl } : {}),
    ...(o.appToken ? { appToken: o.appToken } : {}),
    // We schedule our own retries (per message, newest state), so the client must not queue or sleep.
    clientOptions: { rejectRateLimitedCalls: true, retryConfig: { retries: 0 } },
    log: o.log,
  });
  const { core } = o;
  const storeErrors = o.storeErrors ?? new StoreErrorLog(o.log);

  // A listener failed: tell the person, and log it through the store's error log (an outage: once a second, not a
  // stack per click). Then fail the request: a vote click acks only after its commit, so a click that failed before
  // its ack gets a 500 at once and Slack redelivers it (its idempotency key makes it count once); after an ack the
  // receiver has already answered and only logs.
  app.error(async ({ error, body }: { error: Error; body: unknown }) => {
    const outage = storeErrors.report(error, 'Slack request failed');
    const b = body as {
      user_id?: string;
      channel_id?: string;
      user?: { id?: string };
      channel?: { id?: string };
    };
    const user = b.user_id ?? b.user?.id;
    const channel = b.channel_id ?? b.channel?.id;
    if (user && channel)
      await app.client.chat
        .postEphemeral({
          channel,
          user,
          text: outage
            ? ':warning: livevote cannot reach its database right now. Please try again in a minute.'
            : ':warning: Something went wrong on our side; nothing was changed unless you were told so.',
        })
        .catch(() => undefined);
    throw error;
  });

  async function postPoll(
    client: WebClient,
    channel: string,
    pollId: string,
    team: string | undefined,
  ): Promise<void> {
    const snapshot = await core.snapshots.fresh(pollId);
    const poll = await core.snapshots.poll(pollId);
    if (!snapshot || !poll) return;
    const msg = renderPoll(poll, snapshot, { publicUrl: o.publicUrl, voters: {} });
    const posted = await client.chat.postMessage({ channel, text: msg.text, blocks: asBlocks(msg.blocks) });
    if (!posted.ts || !posted.channel) return;
    await client.pins.add({ channel: posted.channel, timestamp: posted.ts }).catch((err: unknown) => {
      o.log.warn({ err: String(err) }, 'pinning the poll message failed');
    });
    await o.tally.track({
      platform: 'slack',
      channel: posted.channel,
      message_id: posted.ts,
      poll_id: pollId,
      meta: { team: team ?? '' },
    });
  }

  const ephemeral = (client: WebClient, channel: string | undefined, user: string, text: string) =>
    channel
      ? client.chat.postEphemeral({ channel, user, text }).catch(() => undefined)
      : Promise.resolve(undefined);

  const commandWorkspace = (c: { team_id: string; enterprise_id?: string; is_enterprise_install?: string }) =>
    slackWorkspace({
      teamId: c.team_id,
      enterpriseId: c.enterprise_id,
      isEnterpriseInstall: c.is_enterprise_install === 'true',
    });

  app.command('/lunch', async ({ ack, command, client }) => {
    await ack();
    const workspace = commandWorkspace(command);
    if (!workspace) return;
    await client.views.open({
      trigger_id: command.trigger_id,
      view: lunchModal(await catalogOf(core, workspace), command.channel_id) as never,
    });
  });

  app.view(LUNCH_MODAL, async ({ ack, view, body, client }) => {
    const workspace = workspaceOf(body);
    if (!workspace) return void (await ack());
    const read = readLunchModal(view.state as never, await catalogOf(core, workspace), new Date());
    if (!read.ok) return void (await ack({ response_action: 'errors', errors: read.errors }));
    await ack();
    const channel = (JSON.parse(view.private_metadata || '{}') as { channel?: string }).channel;
    const r = await createChatPoll(core, workspace, voterFrom(body), {
      template: 'lunch',
      ...(read.title ? { title: read.title } : {}),
      places: read.places,
      closesAt: read.closesAt,
      anonymous: read.anonymous,
      resultsHidden: read.hidden,
    });
    if (!r.ok) return void (await ephemeral(client, channel, body.user.id, r.message));
    if (channel) await postPoll(client, channel, r.value.poll.id, teamOf(body));
  });

  app.command('/vote', async ({ ack, command, client }) => {
    const parsed = parseVoteCommand(command.text);
    if (!parsed.ok) return void (await ack({ response_type: 'ephemeral', text: parsed.message }));
    await ack();
    const workspace = commandWorkspace(command);
    if (!workspace) return;
    const r = await createChatPoll(core, workspace, slackVoter(command.team_id, command.user_id), {
      template: 'choice',
      question: parsed.value.question,
      options: parsed.value.options,
    });
    if (!r.ok) return void (await ephemeral(client, command.channel_id, command.user_id, r.message));
    await postPoll(client, command.channel_id, r.value.poll.id, command.team_id);
  });

  type ActionArgs = AllMiddlewareArgs & {
    ack: () => Promise<void>;
    // biome-ignore lint/suspicious/noExplicitAny: Bolt's action payload union is wide; we read checked fields only
    body: any;
    // biome-ignore lint/suspicious/noExplicitAny: as above
    action: any;
  };

  app.action(/^vote-/, async ({ ack, body, action, client }: ActionArgs) => {
    // Slack's 200 is the click's receipt: Slack sends a click again only when it got none. So the 200 waits for the
    // commit; if the store fails, Bolt answers 500 instead and the redelivery (same action_ts, same key) counts once.
    const value: string | undefined = action.value ?? action.selected_option?.value;
    const target = value ? parseVoteValue(value) : null;
    const user: string = body.user.id;
    const channel: string | undefined = body.channel?.id ?? body.container?.channel_id;
    if (!target) return void (await ack());
    const poll = await core.snapshots.poll(target.pollId);
    const question = poll?.questions.find((q) => q.options.some((x) => x.id === target.optionId));
    if (!poll || !question) {
      await ack();
      return void (await ephemeral(client, channel, user, 'That poll or option no longer exists.'));
    }
    // One click = one payload with its own action_ts; a redelivered payload carries the same one, so counts once.
    const key = `slack:${body.container?.message_ts ?? ''}:${action.action_ts ?? ''}:${user}`;
    const r = await castVote(core, {
      pollId: poll.id,
      questionId: question.id,
      optionIds: [target.optionId],
      voter: voterFrom(body),
      idempotencyKey: key.slice(0, 200),
    });
    await ack();
    if (!r.ok) return void (await ephemeral(client, channel, user, `:warning: ${r.message}`));
    const label = question.options.find((x) => x.id === target.optionId)?.label ?? target.optionId;
    await ephemeral(
      client,
      channel,
      user,
      `:white_check_mark: Your vote: *${label}*${r.value.changed ? '' : ' (unchanged)'}`,
    );
  });

  app.action('retract', async ({ ack, body, action, client }: ActionArgs) => {
    await ack();
    const pollId: string = action.value;
    const user: string = body.user.id;
    const channel: string | undefined = body.channel?.id;
    const r = await retractVote(core, { pollId, voter: voterFrom(body) });
    if (!r.ok) return void (await ephemeral(client, channel, user, `:warning: ${r.message}`));
    await ephemeral(client, channel, user, 'Your vote was taken back.');
  });

  app.action('vote-in-browser', async ({ ack, body, action, client }: ActionArgs) => {
    await ack();
    const user: string = body.user.id;
    const base = `${o.publicUrl}/p/${action.value as string}`;
    const link = o.voterTokenSecret
      ? `${base}?token=${encodeURIComponent(issueVoterToken(o.voterTokenSecret, voterFrom(body), 12 * 3600))}`
      : base;
    await ephemeral(client, body.channel?.id, user, `Your personal voting link (valid 12 h): ${link}`);
  });

  app.action('open-board', async ({ ack }) => {
    await ack();
  });

  app.action('close-poll', async ({ ack, body, action, client }: ActionArgs) => {
    await ack();
    const pollId: string = action.value;
    const user: string = body.user.id;
    const channel: string | undefined = body.channel?.id;
    const r = await closePoll(core, pollId, { kind: 'voter', key: voterKey(voterFrom(body)) });
    if (!r.ok) await ephemeral(client, channel, user, `:warning: ${r.message}`);
  });

  app.event('app_home_opened', async ({ event, client, body }) => {
    // Only this workspace's polls: App Home must never show another company's (or org's) polls.
    const workspace = slackWorkspace({
      teamId: body.team_id,
      enterpriseId: body.enterprise_id,
      isEnterpriseInstall: body.is_enterprise_install,
    });
    const open = workspace ? await core.polls.listPolls({ workspace, openOnly: true, limit: 45 }) : [];
    const blocks = [
      { type: 'header', text: { type: 'plain_text', text: 'Open polls' } },
      ...(open.length === 0
        ? [
            {
              type: 'section',
              text: {
                type: 'mrkdwn',
                text: 'No open polls. Start one with `/lunch` or `/vote "Question" "A" "B"`.',
              },
            },
          ]
        : open.slice(0, 45).map((p) => ({
            type: 'section',
            text: {
              type: 'mrkdwn',
              text: `*${p.title.replace(/[<>&]/g, '')}*${p.closes_at ? `\ncloses <!date^${Math.floor(Date.parse(p.closes_at) / 1000)}^{time}|${p.closes_at}>` : ''}`,
            },
            accessory: {
              type: 'button',
              text: { type: 'plain_text', text: 'Open board' },
              url: `${o.publicUrl}/board/${p.id}`,
              action_id: 'open-board',
            },
          }))),
    ];
    await client.views.publish({ user_id: event.user, view: { type: 'home', blocks } as never });
  });

  const platform: ChatPlatform = {
    name: 'slack',
    async update(m: ChatMessage, s: Snapshot): Promise<SendResult> {
      const poll = await core.snapshots.poll(m.poll_id);
      if (!poll) return { ok: false, gone: true };
      const voters = poll.settings.anonymous ? {} : await core.ballots.votersByOption(m.poll_id);
      const msg = renderPoll(poll, s, { publicUrl: o.publicUrl, voters });
      try {
        // chat.update replaces the whole message: always send the blocks, or Slack shows only the fallback text.
        await app.client.chat.update({
          channel: m.channel,
          ts: m.message_id,
          text: msg.text,
          blocks: asBlocks(msg.blocks),
        });
        return { ok: true };
      } catch (err) {
        const e = err as RateLimitedError;
        if (e.code === 'slack_webapi_rate_limited_error')
          return { ok: false, retryAfterMs: (e.retryAfter ?? 1) * 1000 };
        if (e.data?.error === 'message_not_found' || e.data?.error === 'channel_not_found')
          return { ok: false, gone: true };
        throw err;
      }
    },
    async announceWinner(m: ChatMessage, s: Snapshot): Promise<void> {
      const text = winnerText(s, (name) => `*${name.replace(/[<>&*]/g, '')}*`);
      await app.client.chat.postMessage({ channel: m.channel, thread_ts: m.message_id, text });
    },
  };

  // Each signed request acts once (replay-guard.ts): remembered here, and across instances when they share Redis.
  const once = o.sharedOnce
    ? layeredOnce(
        new MemoryOnce(),
        o.sharedOnce,
        atMostEvery(60_000, (err: unknown) =>
          o.log.warn(
            { err: String(err) },
            'Slack replay guard: Redis unreachable; each instance remembers alone',
          ),
        ),
      )
    : new MemoryOnce();
  const router = receiver
    ? Router()
        .post('/slack/events', ...slackReplayGuard({ signingSecret: o.signingSecret, once }))
        .use(receiver.router as unknown as Router)
    : installRouter;

  return {
    ...(router ? { router } : {}),
    platform,
    async start() {
      if (!receiver) await app.start();
    },
    async stop() {
      if (!receiver) await app.stop();
    },
  };
}
