// The Slack app (Bolt 5): /lunch and /vote create polls, buttons and menus vote, the shared message follows the bus.
// Every request's signature is checked by Bolt's receiver before anything reads it.
import {
  type Bus,
  type ChatMessage,
  castVote,
  closePoll,
  createPoll,
  DEMO_PLACES,
  firstQuestionWinners,
  issueVoterToken,
  type Snapshots,
  type Store,
  type Voter,
} from '@livevote/core';
import type { PlaceInput, Snapshot } from '@livevote/core/protocol';
import { type AllMiddlewareArgs, App, ExpressReceiver, LogLevel } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import type { WebClient } from '@slack/web-api';
import type { Router } from 'express';
import type { SendResult } from '../tally/message-updater.ts';
import type { ChatPlatform, TallySync } from '../tally/tally-sync.ts';
import { LUNCH_MODAL, lunchModal, readLunchModal } from './lunch-modal.ts';
import { parseVoteCommand } from './parse-vote-command.ts';
import { parseVoteValue, renderPoll } from './render-poll.ts';

export interface SlackOptions {
  store: Store;
  bus: Bus;
  snapshots: Snapshots;
  tally: TallySync;
  signingSecret: string;
  botToken: string;
  /** Slack's Web API base; tests point it at a local fake. */
  apiUrl?: string;
  /** Socket mode instead of HTTP when set. */
  appToken?: string;
  publicUrl: string;
  /** AUTH_SECRET: "Vote in browser" then hands out a signed personal link. */
  voterTokenSecret?: string;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

export interface SlackApp {
  /** Express router serving POST /slack/events (absent in socket mode). */
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
const creatorKey = (team: string | undefined, user: string) => `slack:${team ?? ''}:${user}`;

interface RateLimitedError {
  code?: string;
  retryAfter?: number;
  data?: { error?: string };
}

export function createSlackApp(o: SlackOptions): SlackApp {
  const clientOptions = {
    ...(o.apiUrl ? { slackApiUrl: o.apiUrl.endsWith('/') ? o.apiUrl : `${o.apiUrl}/` } : {}),
    // We schedule our own retries (per message, newest state), so the client must not queue or sleep.
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
  };
  const receiver = o.appToken
    ? undefined
    : new ExpressReceiver({
        signingSecret: o.signingSecret,
        endpoints: '/slack/events',
        logLevel: LogLevel.ERROR,
      });
  const app = new App({
    token: o.botToken,
    logLevel: LogLevel.ERROR,
    clientOptions,
    ...(receiver ? { receiver } : { socketMode: true, appToken: o.appToken, signingSecret: o.signingSecret }),
  });
  const deps = { store: o.store, bus: o.bus, snapshots: o.snapshots };

  async function catalog(): Promise<PlaceInput[]> {
    const latest = (await o.store.listPolls(50)).find((p) => p.template === 'lunch');
    const poll = latest && (await o.snapshots.poll(latest.id));
    if (!poll) return DEMO_PLACES;
    const menus = poll.questions.find((q) => q.kind === 'menu')?.options ?? [];
    return (poll.questions.find((q) => q.kind === 'place')?.options ?? []).map((p) => ({
      name: p.label,
      ...(p.label_en ? { label_en: p.label_en } : {}),
      menus: menus
        .filter((m) => m.place_id === p.id)
        .map((m) => ({ name: m.label, ...(m.label_en ? { label_en: m.label_en } : {}) })),
    }));
  }

  async function postPoll(
    client: WebClient,
    channel: string,
    pollId: string,
    team: string | undefined,
  ): Promise<void> {
    const snapshot = await o.snapshots.fresh(pollId);
    const poll = await o.snapshots.poll(pollId);
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

  app.command('/lunch', async ({ ack, command, client }) => {
    await ack();
    await client.views.open({
      trigger_id: command.trigger_id,
      view: lunchModal(await catalog(), command.channel_id) as never,
    });
  });

  app.view(LUNCH_MODAL, async ({ ack, view, body, client }) => {
    const places = await catalog();
    const read = readLunchModal(view.state as never, places, new Date());
    if (!read.ok) return void (await ack({ response_action: 'errors', errors: read.errors }));
    await ack();
    const channel = (JSON.parse(view.private_metadata || '{}') as { channel?: string }).channel;
    const team = body.team?.id;
    const r = await createPoll(
      deps,
      {
        template: 'lunch',
        ...(read.title ? { title: read.title } : {}),
        places: read.places,
        closes_at: read.closesAt,
        settings: { anonymous: read.anonymous, results_hidden: read.hidden },
      },
      creatorKey(team, body.user.id),
    );
    if (!r.ok) return void (await ephemeral(client, channel, body.user.id, r.message));
    if (channel) await postPoll(client, channel, r.value.poll.id, team);
  });

  app.command('/vote', async ({ ack, command, client }) => {
    const parsed = parseVoteCommand(command.text);
    if (!parsed.ok) return void (await ack({ response_type: 'ephemeral', text: parsed.message }));
    await ack();
    const r = await createPoll(
      deps,
      {
        template: 'choice',
        title: parsed.value.question.slice(0, 120),
        options: parsed.value.options.map((x) => x.slice(0, 120)),
      },
      creatorKey(command.team_id, command.user_id),
    );
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
    await ack();
    const value: string | undefined = action.value ?? action.selected_option?.value;
    const target = value ? parseVoteValue(value) : null;
    const user: string = body.user.id;
    const channel: string | undefined = body.channel?.id ?? body.container?.channel_id;
    if (!target) return;
    const poll = await o.snapshots.poll(target.pollId);
    const question = poll?.questions.find((q) => q.options.some((x) => x.id === target.optionId));
    if (!poll || !question)
      return void (await ephemeral(client, channel, user, 'That poll or option no longer exists.'));
    // One click = one payload with its own action_ts; a redelivered payload carries the same one, so counts once.
    const key = `slack:${body.container?.message_ts ?? ''}:${action.action_ts ?? ''}:${user}`;
    const r = await castVote(deps, {
      pollId: poll.id,
      questionId: question.id,
      optionIds: [target.optionId],
      voter: slackVoter(body.team?.id ?? body.user?.team_id, user),
      idempotencyKey: key.slice(0, 200),
    });
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
    const poll = await o.snapshots.poll(pollId);
    if (!poll) return;
    const voter = slackVoter(body.team?.id ?? body.user?.team_id, user);
    for (const q of poll.questions) {
      const r = await castVote(deps, { pollId, questionId: q.id, optionIds: [], voter });
      if (!r.ok) return void (await ephemeral(client, channel, user, `:warning: ${r.message}`));
    }
    await ephemeral(client, channel, user, 'Your vote was taken back.');
  });

  app.action('vote-in-browser', async ({ ack, body, action, client }: ActionArgs) => {
    await ack();
    const user: string = body.user.id;
    const base = `${o.publicUrl}/p/${action.value as string}`;
    const link = o.voterTokenSecret
      ? `${base}?token=${encodeURIComponent(issueVoterToken(o.voterTokenSecret, slackVoter(body.team?.id ?? body.user?.team_id, user), 12 * 3600))}`
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
    const creator = await o.store.pollCreator(pollId);
    if (creator !== creatorKey(body.team?.id ?? body.user?.team_id, user)) {
      return void (await ephemeral(
        client,
        channel,
        user,
        'Only the person who created this poll can close it.',
      ));
    }
    const r = await closePoll(deps, pollId, creator);
    if (!r.ok) await ephemeral(client, channel, user, `:warning: ${r.message}`);
  });

  app.event('app_home_opened', async ({ event, client }) => {
    const open = (await o.store.listPolls(50)).filter((p) => p.status === 'open');
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
      const poll = await o.snapshots.poll(m.poll_id);
      if (!poll) return { ok: false, gone: true };
      const voters = poll.settings.anonymous ? {} : await o.store.votersByOption(m.poll_id);
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
      const { names, top } = firstQuestionWinners(s);
      const text =
        names.length === 0
          ? 'The poll closed with no votes.'
          : names.length === 1
            ? `:trophy: Winner: *${names[0]}* with ${top} vote${top === 1 ? '' : 's'}`
            : `:trophy: A tie between *${names.join('* and *')}* (${top} each)`;
      await app.client.chat.postMessage({ channel: m.channel, thread_ts: m.message_id, text });
    },
  };

  return {
    ...(receiver ? { router: receiver.router as unknown as Router } : {}),
    platform,
    async start() {
      if (!receiver) await app.start();
    },
    async stop() {
      if (!receiver) await app.stop();
    },
  };
}
