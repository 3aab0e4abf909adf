// The Slack app (Bolt 5): /lunch and /vote create polls, buttons and menus vote, the shared message follows the event
// path. Every request's signature is checked (by the replay guard, then Bolt's receiver) before anything acts on it.
import {
  addCatalogPlace,
  addOption,
  atMostEvery,
  type ChatMessage,
  type ChatPollRequest,
  type Core,
  castVote,
  catalogOf,
  closePoll,
  createChatPoll,
  createSchedule,
  issueVoterToken,
  type LunchDestinations,
  listCatalog,
  nextWallClockTime,
  type Poll,
  retractVote,
  StoreErrorLog,
  slackWorkspace,
  updateCatalogPlace,
  updateSchedule,
  type Voter,
  voterKey,
  winnerText,
} from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';
import type { AllMiddlewareArgs } from '@slack/bolt';
import type { KnownBlock } from '@slack/types';
import { WebClient, LogLevel as WebLogLevel } from '@slack/web-api';
import { Router } from 'express';
import type { ChatPlatform, Outcome } from '../delivery/contract.ts';
import { type LunchEditors, lunchEditRefusal, mayEditLunch } from '../lunch/lunch-editors.ts';
import type { TallySync } from '../tally/tally-sync.ts';
import { createBoltApp, type SlackOAuthOptions } from './bolt-app.ts';
import { LUNCH_MODAL, lunchModal, readLunchModal } from './lunch-modal.ts';
import { escapeMrkdwn as esc } from './mrkdwn.ts';
import { parseVoteCommand } from './parse-vote-command.ts';
import { PLACES_MODAL, placesModal, placesMrkdwn, readPlacesModal } from './places-modal.ts';
import { PollMessageUntracked, postPollMessage } from './post-poll.ts';
import { parseVoteValue, renderPoll } from './render-poll.ts';
import { layeredOnce, MemoryOnce, type OnceStore, slackReplayGuard } from './replay-guard.ts';
import { readScheduleModal, SCHEDULE_MODAL, scheduleModal, scheduleText } from './schedule-modal.ts';
import { NUDGE_OPT_OUT, slackDestinations, voterKeyOfSlackUser } from './slack-destinations.ts';
import { classifySlackError, slackBudgets } from './slack-errors.ts';
import {
  ADD_OPTION_MODAL,
  addOptionModal,
  type ModalContext,
  readVoteModal,
  VOTE_MODAL,
  voteModal,
} from './vote-modal.ts';
import { slackAdminCheck } from './workspace-admin.ts';

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
  /** Who may change the lunch places and schedules from Slack (LUNCH_EDITORS); default: workspace admins. */
  lunchEditors?: LunchEditors;
}

export interface SlackApp {
  /** Express router serving POST /slack/events and the OAuth install routes (socket mode: only the latter, if any). */
  router?: Router;
  platform: ChatPlatform;
  /** Where scheduled lunch polls of Slack channels go (registered on the server's DestinationRouter). */
  destinations: LunchDestinations;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** Slack shows the person an error when a click has no answer within 3 s; a vote still committing then is answered later. */
const ACK_WITHIN_MS = 2_500;

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

/** What to tell the person when Slack refused to post the poll message (nothing was created). */
function cannotPostHere(reason: string): string {
  if (reason === 'channel_not_found' || reason === 'not_in_channel')
    return ":warning: I can't post in this conversation: it is private, or a direct message I am not part of. Invite me with `/invite @livevote` and run the command again. Nothing was created.";
  if (reason === 'is_archived') return ':warning: This channel is archived. Nothing was created.';
  return `:warning: Slack refused the poll message (\`${reason}\`). Nothing was created.`;
}

/** The poll is up but not pinned: why, and what fixes it. */
function notPinnedText(reason: string): string {
  if (reason === 'not_in_channel' || reason === 'channel_not_found')
    return ":pushpin: The poll is posted, but I can't pin it here: I am not a member of this channel. Invite me with `/invite @livevote` and I will pin the next polls.";
  return `:pushpin: The poll is posted, but Slack did not let me pin it (\`${reason}\`).`;
}

/** Why a message stopped updating, as its creator should read it. */
function goneText(reason: string): string {
  if (reason === 'is_archived') return 'the channel was archived';
  if (reason === 'channel_not_found' || reason === 'not_in_channel') return 'I was removed from the channel';
  if (reason === 'message_not_found') return 'the message was deleted';
  if (['invalid_auth', 'account_inactive', 'token_revoked', 'not_authed'].includes(reason))
    return 'livevote was removed from this workspace';
  return `Slack refused the update (${reason})`;
}

export function createSlackApp(o: SlackOptions): SlackApp {
  const slackApiUrl = o.apiUrl ? (o.apiUrl.endsWith('/') ? o.apiUrl : `${o.apiUrl}/`) : undefined;
  // Posts, modals and ephemerals keep the SDK's retries (it waits out a 429 and retries 5xx): each is one call a
  // person is waiting for. Tally updates go through the delivery engine instead (updateClient below).
  const boltApp = createBoltApp({
    signingSecret: o.signingSecret,
    ...(o.botToken ? { botToken: o.botToken } : {}),
    ...(o.oauth ? { oauth: o.oauth } : {}),
    ...(o.apiUrl ? { apiUrl: o.apiUrl } : {}),
    ...(o.appToken ? { appToken: o.appToken } : {}),
    log: o.log,
  });
  const { app, receiver, installRouter } = boltApp;
  const { core } = o;
  const storeErrors = o.storeErrors ?? new StoreErrorLog(o.log);

  // A listener failed: tell the person, and log it through the store's error log (an outage: once a second, not a
  // stack per click). Then fail the request: a vote click acks after its commit (or 2.5 s), so a click that failed
  // before its ack gets a 500 at once (Slack shows an error and does not send it again: the message says to try
  // again); after an ack the receiver has already answered and only logs.
  app.error(
    async ({ error, body, context }: { error: Error; body: unknown; context?: { botToken?: string } }) => {
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
            // With OAuth, app.client has no token of its own: the request's workspace's token.
            ...(context?.botToken ? { token: context.botToken } : {}),
            channel,
            user,
            text: outage
              ? ':warning: livevote cannot reach its database right now. Please try again in a minute.'
              : ':warning: Something went wrong on our side; nothing was changed unless you were told so.',
          })
          .catch(() => undefined);
      throw error;
    },
  );

  /** Answers through a command's response_url: reaches the person even where the bot cannot post. */
  async function respond(responseUrl: string | undefined, text: string): Promise<boolean> {
    if (!responseUrl) return false;
    try {
      const res = await fetch(responseUrl, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }),
        signal: AbortSignal.timeout(10_000),
      });
      return res.ok;
    } catch {
      return false;
    }
  }

  /**
   * Creates the poll and posts its message. If Slack refuses the post (a private channel or a DM without the bot,
   * an archived channel), the poll is discarded (nobody could see it) and the person is told how to fix it.
   */
  const postDeps = { tally: o.tally, publicUrl: o.publicUrl, log: o.log };
  async function startPoll(
    client: WebClient,
    at: ModalContext & { user: string; team: string | undefined },
    workspace: string,
    req: ChatPollRequest,
  ): Promise<void> {
    const tell = (text: string) =>
      toPerson(client, { responseUrl: at.responseUrl, channel: at.channel, user: at.user }, text);
    const r = await createChatPoll(core, workspace, slackVoter(at.team, at.user), req);
    if (!r.ok) return void (await tell(`:warning: ${esc(r.message)}`));
    const poll = r.value.poll;
    try {
      const posted = await postPollMessage(
        postDeps,
        client,
        { channel: at.channel, team: at.team ?? '', workspace },
        poll,
        r.value.snapshot,
      );
      if (posted?.unpinned) await tell(notPinnedText(posted.unpinned));
    } catch (err) {
      if (err instanceof PollMessageUntracked) {
        // Slack took the message but our database did not take its tracking: it is down again; so is the poll.
        await core.polls.discardPoll(poll.id, 'not_tracked').catch(() => undefined);
        o.log.warn({ err: String(err.cause), poll: poll.id }, 'a new poll message could not be tracked');
        return void (await tell(
          ':warning: livevote could not save the poll (its database did not answer). Nothing was posted; please try again in a minute.',
        ));
      }
      const why = classifySlackError(err);
      await core.polls.discardPoll(poll.id, why.reason);
      o.log.warn({ reason: why.reason, poll: poll.id }, 'posting a new poll failed; the poll was discarded');
      return void (await tell(cannotPostHere(why.reason)));
    }
  }

  /** The person's time zone (Slack profile), for `--closes 12:30`; the server's when Slack does not say. */
  async function timeZoneOf(client: WebClient, user: string): Promise<string> {
    const info = await client.users.info({ user }).catch(() => undefined);
    const tz = (info?.user as { tz?: string } | undefined)?.tz;
    return tz ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  }

  const ephemeral = (client: WebClient, channel: string | undefined, user: string, text: string) =>
    channel
      ? client.chat.postEphemeral({ channel, user, text }).catch(() => undefined)
      : Promise.resolve(undefined);

  /**
   * An answer only the person who clicked sees: through the interaction's response_url, which reaches them wherever
   * the click happened (a public channel the bot was never invited to included, where chat.postEphemeral is
   * refused), else chat.postEphemeral.
   */
  const toClicker = (
    body: {
      response_url?: string;
      user: { id: string };
      channel?: { id?: string };
      container?: { channel_id?: string };
    },
    client: WebClient,
    text: string,
  ) =>
    toPerson(
      client,
      {
        responseUrl: body.response_url,
        channel: body.channel?.id ?? body.container?.channel_id,
        user: body.user.id,
      },
      text,
    );

  /** Through a response_url where there is one (it reaches the person anywhere), else chat.postEphemeral. */
  async function toPerson(
    client: WebClient,
    to: { responseUrl: string | undefined; channel: string | undefined; user: string },
    text: string,
  ) {
    return (await respond(to.responseUrl, text)) || (await ephemeral(client, to.channel, to.user, text));
  }

  const commandWorkspace = (c: { team_id: string; enterprise_id?: string; is_enterprise_install?: string }) =>
    slackWorkspace({
      teamId: c.team_id,
      enterpriseId: c.enterprise_id,
      isEnterpriseInstall: c.is_enterprise_install === 'true',
    });

  const isAdmin = slackAdminCheck({ log: o.log });
  /** Whether this person may change the workspace's lunch places and schedules (see lunch-editors.ts). */
  const mayEdit = (client: WebClient, team: string | undefined, user: string) =>
    mayEditLunch(o.lunchEditors ?? 'admins', () => isAdmin(client, team ?? '', user));
  const REFUSED = lunchEditRefusal('workspace admins');

  app.command('/lunch', async ({ ack, command, client }) => {
    await ack();
    const workspace = commandWorkspace(command);
    if (!workspace) return;
    const sub = command.text.trim().toLowerCase().replace(/\s+/g, ' ');
    if (
      (sub === 'places' || sub === 'schedule set') &&
      !(await mayEdit(client, command.team_id, command.user_id))
    )
      // Everyone may read the places: without the right to change them, they come as text.
      return void (await respond(
        command.response_url,
        sub === 'places' ? placesMrkdwn(await listCatalog(core, workspace), REFUSED) : REFUSED,
      ));
    if (sub === 'places')
      return void (await client.views.open({
        trigger_id: command.trigger_id,
        view: placesModal(await listCatalog(core, workspace)) as never,
      }));
    if (sub === 'schedule' || sub === 'schedule set') {
      const current = await channelSchedule(workspace, command.channel_id);
      if (sub === 'schedule') return void (await respond(command.response_url, scheduleText(current)));
      return void (await client.views.open({
        trigger_id: command.trigger_id,
        view: {
          ...scheduleModal(current, await timeZoneOf(client, command.user_id)),
          private_metadata: JSON.stringify({
            channel: command.channel_id,
            responseUrl: command.response_url,
          }),
        } as never,
      }));
    }
    // A lunch poll offers two places at least; Slack refuses a modal whose place menu is empty.
    const places = await catalogOf(core, workspace);
    if (places.length < 2)
      return void (await respond(
        command.response_url,
        `:warning: A lunch poll needs two active places, and this workspace has ${places.length === 0 ? 'none' : 'one'}. Add or re-activate places with \`/lunch places\`.`,
      ));
    await client.views.open({
      trigger_id: command.trigger_id,
      view: {
        ...lunchModal(places, command.channel_id),
        private_metadata: JSON.stringify({
          channel: command.channel_id,
          responseUrl: command.response_url,
        } satisfies ModalContext),
      } as never,
    });
  });

  app.view(LUNCH_MODAL, async ({ ack, view, body, client }) => {
    const workspace = workspaceOf(body);
    if (!workspace) return void (await ack());
    const read = readLunchModal(view.state as never, await catalogOf(core, workspace), new Date());
    if (!read.ok) return void (await ack({ response_action: 'errors', errors: read.errors }));
    await ack();
    const ctx = JSON.parse(view.private_metadata || '{}') as Partial<ModalContext>;
    if (!ctx.channel) return;
    await startPoll(
      client,
      { ...ctx, channel: ctx.channel, user: body.user.id, team: teamOf(body) },
      workspace,
      {
        template: 'lunch',
        ...(read.title ? { title: read.title } : {}),
        places: read.places,
        closesAt: read.closesAt,
        anonymous: read.anonymous,
        resultsHidden: read.hidden,
      },
    );
  });

  /** The schedule whose destination is this Slack channel, if any. */
  const channelSchedule = async (workspace: string, channel: string) =>
    (await core.lunch.schedules(workspace)).find(
      (x) => x.destination.platform === 'slack' && x.destination.channel === channel,
    );

  app.view(PLACES_MODAL, async ({ ack, view, body, client }) => {
    const workspace = workspaceOf(body);
    if (!workspace) return void (await ack());
    // Checked again on submit: whoever opened the form may have lost the right since.
    if (!(await mayEdit(client, teamOf(body), body.user.id)))
      return void (await ack({ response_action: 'errors', errors: { name: REFUSED } }));
    const change = readPlacesModal(view.state as never, await listCatalog(core, workspace));
    if (!change.ok) return void (await ack({ response_action: 'errors', errors: change.errors }));
    const r =
      change.kind === 'add'
        ? await addCatalogPlace(core, workspace, change.input)
        : await updateCatalogPlace(core, workspace, change.id, change.patch);
    if (!r.ok)
      return void (await ack({
        response_action: 'errors',
        errors: { [r.reason === 'unknown_place' ? 'place' : 'name']: r.message },
      }));
    // The modal shows the catalog as it is now, ready for the next change.
    await ack({ response_action: 'update', view: placesModal(await listCatalog(core, workspace)) as never });
  });

  app.view(SCHEDULE_MODAL, async ({ ack, view, body, client }) => {
    const workspace = workspaceOf(body);
    const ctx = JSON.parse(view.private_metadata || '{}') as Partial<ModalContext>;
    if (!workspace || !ctx.channel) return void (await ack());
    if (!(await mayEdit(client, teamOf(body), body.user.id)))
      return void (await ack({ response_action: 'errors', errors: { close_at: REFUSED } }));
    const read = readScheduleModal(view.state as never, workspace, ctx.channel);
    if (!read.ok) return void (await ack({ response_action: 'errors', errors: read.errors }));
    const current = await channelSchedule(workspace, ctx.channel);
    const { workspace: _w, ...spec } = read.body;
    const r = current ? await updateSchedule(core, current.id, spec) : await createSchedule(core, read.body);
    if (!r.ok) return void (await ack({ response_action: 'errors', errors: { close_at: r.message } }));
    await ack();
    await respond(ctx.responseUrl, `:white_check_mark: ${scheduleText(r.value)}`);
  });

  app.command('/vote', async ({ ack, command, client }) => {
    const parsed = parseVoteCommand(command.text);
    if (!parsed.ok) return void (await ack({ response_type: 'ephemeral', text: parsed.message }));
    await ack();
    const workspace = commandWorkspace(command);
    if (!workspace) return;
    const ctx: ModalContext = { channel: command.channel_id, responseUrl: command.response_url };
    if ('modal' in parsed.value)
      return void (await client.views.open({
        trigger_id: command.trigger_id,
        view: voteModal(ctx) as never,
      }));
    const v = parsed.value;
    let closesAt: string | null = null;
    if (v.closes) {
      // The next time the person's wall clock shows it (as Teams' `closes 12:30`): later today, else tomorrow.
      const [hour, minute] = v.closes.split(':').map(Number) as [number, number];
      const timeZone = await timeZoneOf(client, command.user_id);
      closesAt = nextWallClockTime({ hour, minute }, { timeZone }, new Date()).toISOString();
    }
    await startPoll(client, { ...ctx, user: command.user_id, team: command.team_id }, workspace, {
      template: 'choice',
      question: v.question,
      options: v.options,
      closesAt,
      anonymous: v.anonymous ?? false,
      resultsHidden: v.hidden ?? false,
      allowAddOptions: v.addOptions ?? false,
      ...(v.multi ? { maxChoices: v.multi } : {}),
    });
  });

  app.view(VOTE_MODAL, async ({ ack, view, body, client }) => {
    const workspace = workspaceOf(body);
    if (!workspace) return void (await ack());
    const read = readVoteModal(view.state as never, new Date());
    if (!read.ok) return void (await ack({ response_action: 'errors', errors: read.errors }));
    await ack();
    const ctx = JSON.parse(view.private_metadata || '{}') as Partial<ModalContext>;
    if (!ctx.channel) return;
    const v = read.value;
    await startPoll(
      client,
      { ...ctx, channel: ctx.channel, user: body.user.id, team: teamOf(body) },
      workspace,
      {
        template: 'choice',
        question: v.question,
        options: v.options,
        closesAt: v.closesAt,
        anonymous: v.anonymous,
        resultsHidden: v.hidden,
        allowAddOptions: v.addOptions,
        ...(v.multi ? { maxChoices: v.multi } : {}),
      },
    );
  });

  type ActionArgs = AllMiddlewareArgs & {
    ack: () => Promise<void>;
    // biome-ignore lint/suspicious/noExplicitAny: Bolt's action payload union is wide; we read checked fields only
    body: any;
    // biome-ignore lint/suspicious/noExplicitAny: as above
    action: any;
  };

  // Every vote control's action id starts with `vote-` (one per option, one per select), except the browser link.
  app.action(/^vote-(?!in-browser$)/, async ({ ack: slackAck, body, action, client }: ActionArgs) => {
    // Slack does not send a click again, and shows the person an error if it has no answer within 3 s. So the 200
    // waits for the commit, but never past ACK_WITHIN_MS: a failure before then answers 500 (and app.error tells the
    // person to try again); a commit still running then is answered after, by the ephemeral confirmation or refusal.
    let acked = false;
    const ack = async () => {
      if (acked) return;
      acked = true;
      await slackAck();
    };
    const late = setTimeout(() => void ack(), ACK_WITHIN_MS);
    try {
      await vote(ack, body, action, client);
    } finally {
      clearTimeout(late);
    }
  });

  async function vote(
    ack: () => Promise<void>,
    body: ActionArgs['body'],
    action: ActionArgs['action'],
    client: ActionArgs['client'],
  ): Promise<void> {
    const value: string | undefined = action.value ?? action.selected_option?.value;
    const target = value ? parseVoteValue(value) : null;
    const user: string = body.user.id;
    if (!target) return void (await ack());
    const found = await core.snapshots.withOption(target.pollId, target.optionId);
    if (!found) {
      await ack();
      return void (await toClicker(body, client, 'That poll or option no longer exists.'));
    }
    const { poll, question } = found;
    // One click = one payload with its own action_ts; a redelivered payload carries the same one, so counts once.
    const key = `slack:${body.container?.message_ts ?? ''}:${action.action_ts ?? ''}:${user}`;
    const voter = voterFrom(body);
    // A poll where each person picks several: a click adds that option to their choices, a second click takes it off.
    // The store toggles it under the voter's lock, from the ballot as it is then: two quick clicks, even handled by
    // two bot processes, both count.
    const r = await castVote(core, {
      pollId: poll.id,
      questionId: question.id,
      optionIds: [target.optionId],
      voter,
      idempotencyKey: key.slice(0, 200),
      ...(question.max_choices > 1 ? { toggle: true } : {}),
    });
    await ack();
    if (!r.ok && r.reason === 'too_many_choices')
      return void (await toClicker(
        body,
        client,
        `:warning: You can choose up to ${question.max_choices}. Click one of yours to take it off first.`,
      ));
    if (!r.ok) return void (await toClicker(body, client, `:warning: ${esc(r.message)}`));
    const labels = r.value.optionIds.map((id) => esc(question.options.find((x) => x.id === id)?.label ?? id));
    await toClicker(
      body,
      client,
      labels.length === 0
        ? 'Your vote was taken back.'
        : `:white_check_mark: Your vote: *${labels.join('*, *')}*${r.value.changed ? '' : ' (unchanged)'}`,
    );
  }

  app.action('who-voted', async ({ ack, body, action, client }: ActionArgs) => {
    await ack();
    const [poll, snapshot] = await Promise.all([
      core.snapshots.poll(action.value as string),
      core.snapshots.fresh(action.value as string),
    ]);
    if (!poll || !snapshot) return void (await toClicker(body, client, 'That poll no longer exists.'));
    if (poll.settings.anonymous || snapshot.results_hidden)
      return void (await toClicker(body, client, 'This poll does not show who voted.'));
    await toClicker(body, client, whoVotedText(poll, await core.ballots.votersByOption(poll.id)));
  });

  app.action('add-option', async ({ ack, body, action, client }: ActionArgs) => {
    await ack();
    const poll = await core.snapshots.poll(action.value as string);
    const q = poll?.questions[0];
    if (!poll || !q || !poll.settings.allow_add_options)
      return void (await toClicker(body, client, 'This poll does not take new options.'));
    await client.views.open({
      trigger_id: body.trigger_id,
      view: addOptionModal(poll.id, q.id, poll.title) as never,
    });
  });

  app.view(ADD_OPTION_MODAL, async ({ ack, view, body }) => {
    const { pollId, questionId } = JSON.parse(view.private_metadata || '{}') as {
      pollId?: string;
      questionId?: string;
    };
    const label = (view.state.values.label?.v?.value ?? '').trim();
    if (!pollId || !questionId) return void (await ack());
    if (!label) return void (await ack({ response_action: 'errors', errors: { label: 'Type the option.' } }));
    const r = await addOption(core, pollId, questionId, label, voterKey(voterFrom(body)));
    if (!r.ok) return void (await ack({ response_action: 'errors', errors: { label: r.message } }));
    await ack();
  });

  app.action('retract', async ({ ack, body, action, client }: ActionArgs) => {
    await ack();
    const pollId: string = action.value;
    const r = await retractVote(core, { pollId, voter: voterFrom(body) });
    if (!r.ok) return void (await toClicker(body, client, `:warning: ${esc(r.message)}`));
    await toClicker(body, client, 'Your vote was taken back.');
  });

  app.action('vote-in-browser', async ({ ack, body, action, client }: ActionArgs) => {
    await ack();
    const poll = await core.snapshots.poll(String(action.value));
    if (!poll) return void (await toClicker(body, client, 'That poll no longer exists.'));
    const base = `${o.publicUrl}/p/${poll.id}`;
    // The link vouches for this person in the poll's workspace only (a token names it; see mayActIn).
    const voter = { ...voterFrom(body), workspace: poll.workspace };
    const link = o.voterTokenSecret
      ? `${base}?token=${encodeURIComponent(issueVoterToken(o.voterTokenSecret, voter, 12 * 3600))}`
      : base;
    await toClicker(body, client, `Your personal voting link (valid 12 h): ${link}`);
  });

  app.action('open-board', async ({ ack }) => {
    await ack();
  });

  // A nudged person turns direct lunch nudges off for this workspace (the key the ballots know them by).
  app.action(NUDGE_OPT_OUT, async ({ ack, body, client }: ActionArgs) => {
    await ack();
    const workspace = workspaceOf(body);
    const team = teamOf(body);
    if (!workspace || !team) return;
    const key = await voterKeyOfSlackUser(core.directory, workspace, team, body.user.id);
    await core.lunch.setReminderOptOut(workspace, key, true);
    await client.chat
      .postMessage({ channel: body.user.id, text: 'Done: no more lunch nudges from me in this workspace.' })
      .catch(() => undefined);
  });

  app.action('close-poll', async ({ ack, body, action, client }: ActionArgs) => {
    await ack();
    const pollId: string = action.value;
    const r = await closePoll(core, pollId, { kind: 'voter', key: voterKey(voterFrom(body)) });
    if (!r.ok) await toClicker(body, client, `:warning: ${esc(r.message)}`);
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
              text: `*${esc(p.title)}*${p.closes_at ? `\ncloses <!date^${Math.floor(Date.parse(p.closes_at) / 1000)}^{time}|${p.closes_at}>` : ''}`,
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

  // Tally updates: a client that never retries or sleeps on a 429 (the delivery engine schedules the retry, with the
  // newest state and within the workspace's budget), one per token.
  const updateClients = new Map<string, WebClient>();
  const updateClient = (token: string) => {
    let c = updateClients.get(token);
    if (!c) {
      c = new WebClient(token, {
        ...(slackApiUrl ? { slackApiUrl } : {}),
        rejectRateLimitedCalls: true,
        retryConfig: { retries: 0 },
        logLevel: WebLogLevel.ERROR,
      });
      updateClients.set(token, c);
    }
    return c;
  };
  // The message's workspace: its team (org-wide installs answer for each of their teams).
  const tokenFor = (m: ChatMessage): Promise<string | undefined> =>
    typeof m.meta.workspace === 'string'
      ? boltApp.tokenFor({ workspace: m.meta.workspace })
      : boltApp.tokenFor({ teamId: String(m.meta.team ?? '') });
  const call = async (m: ChatMessage, f: (c: WebClient) => Promise<unknown>): Promise<Outcome> => {
    const token = await tokenFor(m);
    if (!token) return { ok: false, kind: 'permanent', reason: 'not_installed' };
    try {
      await f(updateClient(token));
      return { ok: true };
    } catch (err) {
      return classifySlackError(err);
    }
  };

  const platform: ChatPlatform = {
    name: 'slack',
    budgets: slackBudgets,
    async update(m: ChatMessage, s: Snapshot): Promise<Outcome> {
      const poll = await core.snapshots.poll(m.poll_id);
      if (!poll) return { ok: false, kind: 'permanent', reason: 'unknown_poll' };
      const voters = poll.settings.anonymous ? {} : await core.ballots.votersByOption(m.poll_id);
      const msg = renderPoll(poll, s, { publicUrl: o.publicUrl, voters });
      // chat.update replaces the whole message: always send the blocks, or Slack shows only the fallback text.
      return call(m, (c) =>
        c.chat.update({ channel: m.channel, ts: m.message_id, text: msg.text, blocks: asBlocks(msg.blocks) }),
      );
    },
    async announceWinner(m: ChatMessage, s: Snapshot): Promise<Outcome> {
      const text = winnerText(s, (name) => `*${esc(name)}*`);
      return call(m, (c) => c.chat.postMessage({ channel: m.channel, thread_ts: m.message_id, text }));
    },
    async tellCreator(m: ChatMessage, reason: string): Promise<Outcome> {
      const [creator, poll] = await Promise.all([
        core.polls.pollCreator(m.poll_id),
        core.snapshots.poll(m.poll_id),
      ]);
      const [platformName, , user] = (creator ?? '').split(':');
      if (platformName !== 'slack' || !user || !poll) return { ok: true };
      const text = `:warning: I can no longer keep the tally of your poll *${esc(poll.title)}* current in <#${m.channel}>: ${goneText(reason)}. The poll goes on at ${o.publicUrl}/board/${poll.id}`;
      // A message to the user's id lands in their DM with the app (the App Home's Messages tab).
      return call(m, (c) => c.chat.postMessage({ channel: user, text }));
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

  // Scheduled posts are made outside any request: the workspace's token, and the SDK's retries (one post, waited for).
  const postClients = new Map<string, WebClient>();
  const destinations = slackDestinations({
    core,
    tally: o.tally,
    publicUrl: o.publicUrl,
    log: o.log,
    async clientFor(workspace) {
      const token = await boltApp.tokenFor({ workspace });
      if (!token) return undefined;
      let c = postClients.get(token);
      if (!c) {
        c = new WebClient(token, { ...(slackApiUrl ? { slackApiUrl } : {}), logLevel: WebLogLevel.ERROR });
        postClients.set(token, c);
      }
      return c;
    },
  });

  return {
    ...(router ? { router } : {}),
    platform,
    destinations,
    async start() {
      if (!receiver) await app.start();
    },
    async stop() {
      if (!receiver) await app.stop();
    },
  };
}

/** "Who voted" for the person who asked: each option with the people who chose it (mentions, not notified). */
export function whoVotedText(poll: Poll, voters: Record<string, string[]>): string {
  const lines: string[] = [];
  for (const q of poll.questions)
    for (const opt of q.options) {
      const who = (voters[opt.id] ?? []).map((k) => {
        const [platform, , user] = k.split(':');
        if (platform === 'slack' && user) return `<@${user}>`;
        if (platform === 'emp') return `#${esc(k.slice(4))}`;
        return platform ?? '?';
      });
      lines.push(`*${esc(opt.label)}* (${who.length}): ${who.join(' ') || '—'}`);
    }
  const text = lines.join('\n');
  return text.length <= 3_000 ? text : `${text.slice(0, 2_990)}\n…`;
}
