// The Teams app on Microsoft's current Teams SDK (@microsoft/teams.apps; the Bot Framework SDK is archived), mounted on
// our own Express app at POST /api/messages. Every activity's token is validated when TEAMS_CLIENT_ID is set; the
// server mounts this app without one only when TEAMS_ALLOW_UNAUTHENTICATED=true (local development).
import {
  type ChatMessage,
  type Core,
  castVote,
  closePoll,
  createChatPoll,
  isStoreUnavailable,
  isTimeZone,
  type LunchDestinations,
  nextWallClockTime,
  REASON_MESSAGES,
  retractVote,
  StoreErrorLog,
  teamsWorkspace,
  type Voter,
  voterKey,
  type WallClock,
} from '@livevote/core';
import { Client } from '@microsoft/teams.api';
import { App, ExpressAdapter } from '@microsoft/teams.apps';
import { ConsoleLogger } from '@microsoft/teams.common';
import express from 'express';
import type { ChatPlatform } from '../delivery/contract.ts';
import { type LunchEditors, mayEditLunch } from '../lunch/lunch-editors.ts';
import type { TallySync } from '../tally/tally-sync.ts';
import { channelOf, referenceOf } from './conversation-reference.ts';
import { lunchAdminAnswer } from './lunch-admin.ts';
import { type ClockTime, parseTeamsCommand } from './parse-teams-command.ts';
import { CARD_CONTENT_TYPE, cardAttachment, pollCard, REFRESH_USERS_MAX } from './poll-card.ts';
import { type PostResult, postPollCard, sendToConversation } from './proactive.ts';
import { sharedCard, type TeamsMessageMeta, teamsPlatform } from './teams-delivery.ts';
import { teamsDestinations } from './teams-destinations.ts';
import { type AdminQuestion, graphOwnerCheck } from './workspace-admin.ts';

export interface TeamsOptions {
  core: Core;
  tally: TallySync;
  clientId?: string;
  clientSecret?: string;
  tenantId?: string;
  /** Without a client id, accept unauthenticated activities (local development only; never in AUTH_MODE=signed). */
  allowUnauthenticated: boolean;
  publicUrl: string;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** The process's log of failed store calls (shared with the other edges); else one of our own. */
  storeErrors?: { report(err: unknown, what: string): boolean };
  /**
   * Whether the person acting administers the conversation's team or chat (they may close any poll there). Default,
   * with a client id and secret: an owner of the team or group chat by Microsoft Graph; without: nobody but the
   * poll's creator (an admin closes any poll on the web).
   */
  isWorkspaceAdmin?: (q: AdminQuestion) => Promise<boolean>;
  /**
   * Who may change the lunch schedule from Teams (LUNCH_EDITORS); default: owners of the team or group chat. In a
   * personal chat the schedule only ever posts to its one person, who may always set it.
   */
  lunchEditors?: LunchEditors;
}

export interface TeamsApp {
  /** An Express app serving POST /api/messages; mount it before any catch-all. */
  router: express.Express;
  /** The Teams platform of the delivery engine (classified outcomes, budgets). */
  platform: ChatPlatform;
  /**
   * Posts a poll's card to a conversation the bot was added to (a scheduled lunch poll), without anyone speaking to
   * the bot first, and keeps it current like any other.
   */
  postPoll(conversationId: string, pollId: string): Promise<PostResult>;
  /** Where scheduled lunch polls of Teams conversations go (registered on the server's DestinationRouter). */
  destinations: LunchDestinations;
}

/** Reaches the connector of a conversation's serviceUrl with the app's own token (for calls outside a turn). */
class LivevoteTeams extends App {
  connector(serviceUrl: string): Client {
    return new Client(serviceUrl, this.client.clone({ token: () => this.getBotToken() }));
  }

  async graphToken(tenantId: string): Promise<string | null> {
    return (await this.getAppGraphToken(tenantId))?.toString() ?? null;
  }
}

interface ActionData {
  verb?: string;
  poll_id?: string;
  question_id?: string;
  option_id?: string;
  [choice: `choice_${string}`]: string | undefined;
}

// biome-ignore lint/suspicious/noExplicitAny: the SDK's activity types are wide; only checked fields are read
type Activity = any;

function voterOf(a: Activity): Voter {
  const tenant: string = a.conversation?.tenantId ?? a.channelData?.tenant?.id ?? '';
  return { platform: 'teams', tenant, user: a.from?.aadObjectId ?? a.from?.id ?? 'unknown' };
}

/** The sender's wall clock: the zone Teams reports, else the offset of their local timestamp, else ours. */
function wallClockOf(a: Activity): WallClock {
  if (typeof a.localTimezone === 'string' && isTimeZone(a.localTimezone))
    return { timeZone: a.localTimezone };
  const m = /([+-])(\d{2}):(\d{2})$/.exec(String(a.localTimestamp ?? ''));
  if (m) return { offsetMinutes: (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3])) };
  return { timeZone: Intl.DateTimeFormat().resolvedOptions().timeZone };
}

const message = (value: string) =>
  ({ statusCode: 200, type: 'application/vnd.microsoft.activity.message', value }) as never;

/** How long a conversation's stored reference counts as fresh: activities in between do not write it again. */
const REFERENCE_FRESH_MS = 10 * 60_000;

export async function createTeamsApp(o: TeamsOptions): Promise<TeamsApp> {
  const router = express();
  router.disable('x-powered-by'); // a mounted Express app sets its own on every response it handles
  const validated = Boolean(o.clientId);
  const app = new LivevoteTeams({
    httpServerAdapter: new ExpressAdapter(router),
    logger: new ConsoleLogger('livevote-teams', { level: 'error' }),
    ...(o.clientId ? { clientId: o.clientId } : {}),
    ...(o.clientSecret ? { clientSecret: o.clientSecret } : {}),
    ...(o.tenantId ? { tenantId: o.tenantId } : {}),
    // Always explicit: left undefined, the SDK takes it from DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS in the
    // environment, which would switch token validation off behind our config.
    dangerouslyAllowUnauthenticatedRequests: !validated && o.allowUnauthenticated,
  });
  const { core } = o;
  const storeErrors = o.storeErrors ?? new StoreErrorLog(o.log);
  const deliveryDeps = {
    core,
    publicUrl: o.publicUrl,
    connector: (url: string) => app.connector(url),
    // With tokens validated, every stored service URL came from an activity whose token named it (the SDK checks the
    // token's serviceurl claim), and Teams serves only https. Local development talks to a fake over http.
    serviceUrlAllowed: (url: string) => !validated || url.startsWith('https://'),
  };
  const deliveryPlatform = teamsPlatform(deliveryDeps);
  const isWorkspaceAdmin =
    o.isWorkspaceAdmin ??
    (o.clientId && o.clientSecret
      ? graphOwnerCheck({ graphToken: (tenant) => app.graphToken(tenant), log: o.log })
      : undefined);

  // Registered first, so it wraps every handler below: a store outage becomes a "try again" answer to the person
  // (a 200, not the SDK's 500) and one log line a second, not one per activity. Other errors go on to the SDK.
  app.use(async (ctx) => {
    try {
      return await ctx.next();
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      storeErrors.report(err, 'Teams activity failed');
      const text = '⚠️ livevote cannot reach its database right now. Please try again in a minute.';
      if (ctx.activity.type === 'invoke') return message(text);
      await ctx.send(text);
    }
  });

  // Conversation references: from every activity (throttled per conversation), and from installation and membership
  // events, so a scheduled poll can be posted where the bot was added even if nobody spoke to it there yet.
  const fresh = new Map<string, number>();
  app.use(async (ctx) => {
    const a: Activity = ctx.activity;
    const ref = referenceOf({ ...a, serviceUrl: ctx.ref.serviceUrl });
    const botId: string | undefined = a.recipient?.id;
    const removed =
      (a.type === 'installationUpdate' && String(a.action ?? '').startsWith('remove')) ||
      (a.type === 'conversationUpdate' &&
        (a.membersRemoved ?? []).some((m: { id?: string }) => m.id && m.id === botId));
    if (ref) {
      const id = channelOf(ref.conversationId);
      const workspace = teamsWorkspace(ref.tenantId);
      if (removed) {
        fresh.delete(id);
        await core.conversations.forgetConversation('teams', id);
      } else if (
        workspace &&
        // An installation or membership event always writes: the bot may be back after a removal.
        (a.type === 'installationUpdate' ||
          a.type === 'conversationUpdate' ||
          Date.now() - (fresh.get(id) ?? 0) > REFERENCE_FRESH_MS)
      ) {
        await core.conversations.saveConversation({
          platform: 'teams',
          conversation_id: id,
          workspace,
          reference: { ...ref, conversationId: id },
        });
        fresh.set(id, Date.now());
        if (fresh.size > 10_000) fresh.delete(fresh.keys().next().value as string);
      }
    }
    return ctx.next();
  });

  /** Remembers who acted on a card (their MRI) so the card refreshes by itself for them; never for anonymous polls. */
  async function remember(pollId: string, a: Activity, voted: boolean): Promise<void> {
    const mri: string | undefined = a.from?.id;
    if (!mri) return;
    const poll = await core.snapshots.poll(pollId);
    if (!poll || poll.settings.anonymous) return;
    await core.conversations.rememberCardUser(pollId, 'teams', mri, voted);
  }

  async function mayClose(pollId: string, a: Activity, voter: Voter): Promise<boolean> {
    if ((await core.polls.pollCreator(pollId)) === voterKey(voter)) return true;
    return (await adminOf(a, voter)) === (await core.snapshots.poll(pollId))?.workspace;
  }

  /** The workspace whose polls this person may manage as an admin of the conversation's team or chat, if any. */
  async function adminOf(a: Activity, voter: Voter): Promise<string | undefined> {
    return ((await workspaceAdmin(a, voter)) && teamsWorkspace(voter.tenant)) || undefined;
  }

  async function workspaceAdmin(a: Activity, voter: Voter): Promise<boolean> {
    if (!isWorkspaceAdmin || !voter.tenant) return false;
    const groupId: unknown = a.channelData?.team?.aadGroupId;
    const chat = a.conversation?.conversationType === 'groupChat' ? String(a.conversation.id) : undefined;
    return isWorkspaceAdmin({
      tenantId: voter.tenant,
      ...(a.from?.aadObjectId ? { aadObjectId: String(a.from.aadObjectId) } : {}),
      ...(typeof groupId === 'string' ? { teamGroupId: groupId } : chat ? { chatId: chat } : {}),
    });
  }

  /** The card as this viewer sees it: their own vote, the controls they may use, a notice for them alone. */
  async function personalCard(pollId: string, a: Activity, voter: Voter, notice?: string) {
    const [poll, snapshot] = await Promise.all([core.snapshots.poll(pollId), core.snapshots.fresh(pollId)]);
    if (!poll || !snapshot) return null;
    const [mine, closer, users] = await Promise.all([
      core.ballots.ballotsOf(pollId, voter),
      mayClose(pollId, a, voter),
      poll.settings.anonymous ? undefined : core.conversations.cardUsers(pollId, 'teams', REFRESH_USERS_MAX),
    ]);
    return pollCard(poll, snapshot, {
      publicUrl: o.publicUrl,
      mine,
      mayClose: closer,
      ...(users ? { refreshUserIds: users } : {}),
      ...(notice ? { notice } : {}),
    });
  }

  /** Carries out a card action (vote, take back, close); returns what to tell the clicker, if anything. */
  async function act(
    a: Activity,
    data: ActionData,
  ): Promise<{ pollId?: string; notice?: string; done?: string }> {
    const pollId = data.poll_id;
    if (!pollId) return {};
    const voter = voterOf(a);
    if (data.verb === 'vote') {
      if (!data.question_id) return { pollId };
      const optionId = data.option_id ?? data[`choice_${data.question_id}`];
      if (!optionId) return { pollId, notice: 'Choose an option first.' };
      // A redelivered activity keeps its id, so it counts once.
      const r = await castVote(core, {
        pollId,
        questionId: data.question_id,
        optionIds: [optionId],
        voter,
        ...(a.id ? { idempotencyKey: `teams:${a.id}`.slice(0, 200) } : {}),
      });
      if (!r.ok) return { pollId, notice: r.message };
      await remember(pollId, a, true);
      return { pollId, done: '✅ Your vote is in.' };
    }
    if (data.verb === 'retract') {
      const mine = await core.ballots.ballotsOf(pollId, voter);
      if (!Object.values(mine).some((ids) => ids.length > 0))
        return { pollId, notice: 'You have not voted here.' };
      const r = await retractVote(core, { pollId, voter });
      if (!r.ok) return { pollId, notice: r.message };
      return { pollId, done: '↩️ Your vote was taken back.' };
    }
    if (data.verb === 'close') {
      const admin = await adminOf(a, voter);
      const r = await closePoll(core, pollId, {
        kind: 'voter',
        key: voterKey(voter),
        ...(admin ? { adminOf: admin } : {}),
      });
      if (!r.ok)
        return {
          pollId,
          notice:
            r.reason === 'not_allowed'
              ? 'Only the person who created this poll, or an admin, can close it.'
              : REASON_MESSAGES[r.reason],
        };
      return { pollId, done: '🏁 The poll is closed.' };
    }
    if (data.verb === 'refresh') await remember(pollId, a, false);
    return { pollId };
  }

  function closesAt(a: Activity, closes: ClockTime | undefined): string | null {
    return closes ? nextWallClockTime(closes, wallClockOf(a), new Date()).toISOString() : null;
  }

  app.on('message', async (ctx) => {
    const a: Activity = ctx.activity;
    // Action.Submit (clients without Universal Actions) arrives as a message carrying the button's data. The answer
    // goes to the clicker alone (a targeted message, or a plain one in a 1:1 chat); the shared card shows the new
    // tally to everyone anyway.
    const data = a.value as ActionData | undefined;
    if (data && typeof data.verb === 'string' && data.poll_id) {
      const r = await act(a, data);
      const text = r.notice ? `⚠️ ${r.notice}` : r.done;
      if (text && a.conversation?.conversationType === 'personal') await ctx.send(text);
      else if (text && a.from?.id) {
        await ctx.api.conversations
          .activities(a.conversation.id)
          .createTargeted({
            type: 'message',
            text,
            recipient: { id: a.from.id, name: a.from.name ?? '' },
          } as never)
          .catch((err: unknown) =>
            o.log.warn(
              { status: (err as { response?: { status?: number } }).response?.status },
              'Teams targeted answer failed',
            ),
          );
      }
      return;
    }
    const cmd = parseTeamsCommand(a.text);
    if (!cmd.ok) return void (await ctx.send(`⚠️ ${cmd.message}`));
    if (cmd.value.kind === 'help') {
      return void (await ctx.send(
        'Say **lunch** for a lunch poll, or **poll Question; Option A; Option B**; add **closes 12:30** to either to close it by itself. **lunch places** lists the lunch places; **lunch schedule** shows this conversation’s daily lunch poll, **lunch schedule 11:30-12:30 mon-fri Asia/Seoul** sets it.',
      ));
    }
    const creator = voterOf(a);
    const workspace = teamsWorkspace(creator.tenant);
    if (!workspace) return void (await ctx.send('⚠️ This conversation has no Teams tenant; polls need one.'));
    if (cmd.value.kind === 'places' || cmd.value.kind === 'schedule') {
      const clock = wallClockOf(a);
      const answer = await lunchAdminAnswer(
        core,
        {
          workspace,
          conversation: channelOf(a.conversation.id),
          timezone: 'timeZone' in clock && clock.timeZone ? clock.timeZone : 'UTC',
          publicUrl: o.publicUrl,
          mayEdit: () =>
            a.conversation?.conversationType === 'personal'
              ? Promise.resolve(true)
              : mayEditLunch(o.lunchEditors ?? 'admins', () => workspaceAdmin(a, creator)),
          // Without a client secret the bot cannot ask Graph who owns the team or chat: say so, not "ask an owner".
          ...(isWorkspaceAdmin || o.lunchEditors === 'everyone'
            ? {}
            : {
                refusal:
                  'Only owners of this team or chat can change the lunch schedule, and this bot cannot check who they are: it has no client secret for Microsoft Graph (TEAMS_CLIENT_SECRET). Set LUNCH_EDITORS=everyone, or change the schedule in the web admin.',
              }),
        },
        cmd.value,
      );
      return void (await ctx.send(answer));
    }
    const closes = closesAt(a, cmd.value.closes);
    const created = await createChatPoll(
      core,
      workspace,
      creator,
      cmd.value.kind === 'lunch'
        ? { template: 'lunch', closesAt: closes }
        : { template: 'choice', question: cmd.value.question, options: cmd.value.options, closesAt: closes },
    );
    if (!created.ok) return void (await ctx.send(`⚠️ ${created.message}`));
    const { poll, snapshot } = created.value;
    await remember(poll.id, a, false); // the creator sees their own view (with Close) at once
    const card = await sharedCard(deliveryDeps, poll, snapshot);
    const sent = await ctx.send({ type: 'message', attachments: [cardAttachment(card)] } as never);
    const meta: TeamsMessageMeta = {
      serviceUrl: ctx.ref.serviceUrl,
      ...(creator.tenant ? { tenantId: creator.tenant } : {}),
      ...(a.recipient?.id ? { botId: String(a.recipient.id) } : {}),
      ...(a.conversation?.conversationType
        ? { conversationType: String(a.conversation.conversationType) }
        : {}),
    };
    const m: ChatMessage = {
      platform: 'teams',
      channel: a.conversation.id,
      message_id: (sent as { id: string }).id,
      poll_id: poll.id,
      meta: { ...meta },
    };
    await o.tally.track(m);
  });

  app.on('card.action', async (ctx) => {
    const a: Activity = ctx.activity;
    const action = a.value?.action ?? {};
    const data = { ...(action.data ?? {}), verb: action.verb ?? action.data?.verb } as ActionData;
    const r = await act(a, data);
    const c = r.pollId ? await personalCard(r.pollId, a, voterOf(a), r.notice) : null;
    if (!c) return message('This poll no longer exists.');
    // Universal Actions: the clicker gets the refreshed card, with their own vote, at once. (Our card is plain JSON
    // checked by the tests and by Teams; the SDK's card type is a builder class, hence the cast.)
    return { statusCode: 200, type: CARD_CONTENT_TYPE, value: c } as never;
  });

  await app.initialize(); // registers POST /api/messages on `router`

  const postPoll = (conversationId: string, pollId: string) =>
    postPollCard({ ...deliveryDeps, tally: o.tally }, conversationId, pollId);

  return {
    router,
    platform: deliveryPlatform,
    postPoll,
    destinations: teamsDestinations({
      core,
      publicUrl: o.publicUrl,
      postPoll,
      send: (conversationId, activity, replyTo) =>
        sendToConversation(deliveryDeps, conversationId, activity, replyTo),
    }),
  };
}

/** POST /api/messages while Teams is off: a clear answer instead of the API's 404 for an unknown route. */
export function teamsOffRouter(): express.Router {
  const r = express.Router();
  r.post('/api/messages', (_req, res) => {
    res.status(404).json({
      error: {
        code: 'teams_disabled',
        message:
          'The Teams endpoint is off: set TEAMS_CLIENT_ID (tokens are validated), or TEAMS_ALLOW_UNAUTHENTICATED=true for local development.',
      },
    });
  });
  return r;
}
