// The Teams app on Microsoft's current Teams SDK (@microsoft/teams.apps; the Bot Framework SDK is archived). It is
// mounted on our own Express app at POST /api/messages; tokens are validated whenever TEAMS_CLIENT_ID is set.
import {
  type ChatMessage,
  type Core,
  castVote,
  createChatPoll,
  isStoreUnavailable,
  StoreErrorLog,
  teamsWorkspace,
  type Voter,
  winnerText,
} from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';
import { Client } from '@microsoft/teams.api';
import { App, ExpressAdapter } from '@microsoft/teams.apps';
import { ConsoleLogger } from '@microsoft/teams.common';
import express from 'express';
import type { ChatPlatform, Outcome } from '../delivery/contract.ts';
import type { TallySync } from '../tally/tally-sync.ts';
import { parseTeamsCommand } from './parse-teams-command.ts';
import { CARD_CONTENT_TYPE, cardAttachment, pollCard } from './poll-card.ts';

export interface TeamsOptions {
  core: Core;
  tally: TallySync;
  clientId?: string;
  clientSecret?: string;
  tenantId?: string;
  /** Without a client id, accept unauthenticated activities (local development only; AUTH_MODE=open). */
  allowUnauthenticated: boolean;
  publicUrl: string;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
  /** The process's log of failed store calls (shared with the other edges); else one of our own. */
  storeErrors?: { report(err: unknown, what: string): boolean };
}

export interface TeamsApp {
  /** An Express app serving POST /api/messages; mount it before any catch-all. */
  router: express.Express;
  platform: ChatPlatform;
}

/** Reaches the connector of any conversation's serviceUrl with the app's own token (for updates outside a turn). */
class LivevoteTeams extends App {
  connector(serviceUrl: string): Client {
    return new Client(serviceUrl, this.client.clone({ token: () => this.getBotToken() }));
  }
}

interface VoteData {
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

interface HttpError {
  response?: { status?: number; headers?: Record<string, string> };
}

export async function createTeamsApp(o: TeamsOptions): Promise<TeamsApp> {
  const router = express();
  router.disable('x-powered-by'); // a mounted Express app sets its own on every response it handles
  const app = new LivevoteTeams({
    httpServerAdapter: new ExpressAdapter(router),
    logger: new ConsoleLogger('livevote-teams', { level: 'error' }),
    ...(o.clientId ? { clientId: o.clientId } : {}),
    ...(o.clientSecret ? { clientSecret: o.clientSecret } : {}),
    ...(o.tenantId ? { tenantId: o.tenantId } : {}),
    // Always explicit: left undefined, the SDK takes it from DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS in the
    // environment, which would switch token validation off behind our config. Unauthenticated only without a client
    // id, and only where AUTH_MODE=open allows it.
    dangerouslyAllowUnauthenticatedRequests: !o.clientId && o.allowUnauthenticated,
  });
  const { core } = o;
  const storeErrors = o.storeErrors ?? new StoreErrorLog(o.log);

  // Registered first, so it wraps every handler below: a store outage becomes a "try again" answer to the person
  // (a 200, not the SDK's 500) and one log line a second, not one per activity. Other errors go on to the SDK.
  app.use(async (ctx) => {
    try {
      return await ctx.next();
    } catch (err) {
      if (!isStoreUnavailable(err)) throw err;
      storeErrors.report(err, 'Teams activity failed');
      const text = '⚠️ livevote cannot reach its database right now. Please try again in a minute.';
      if (ctx.activity.type === 'invoke')
        return { statusCode: 200, type: 'application/vnd.microsoft.activity.message', value: text } as never;
      await ctx.send(text);
    }
  });

  async function card(pollId: string, voter?: Voter, notice?: string) {
    const [poll, snapshot] = await Promise.all([core.snapshots.poll(pollId), core.snapshots.fresh(pollId)]);
    if (!poll || !snapshot) return null;
    const mine = voter ? await core.ballots.ballotsOf(pollId, voter) : {};
    const c = pollCard(poll, snapshot, { publicUrl: o.publicUrl, mine });
    if (notice) c.body.unshift({ type: 'TextBlock', text: notice, color: 'Attention', wrap: true });
    return c;
  }

  async function castFrom(
    a: Activity,
    data: VoteData,
  ): Promise<{ pollId: string; notice?: string; voter: Voter } | null> {
    if (!data.poll_id || !data.question_id) return null;
    const optionId = data.option_id ?? data[`choice_${data.question_id}`];
    const voter = voterOf(a);
    if (!optionId) return { pollId: data.poll_id, voter, notice: 'Choose an option first.' };
    // A redelivered activity keeps its id, so it counts once.
    const r = await castVote(core, {
      pollId: data.poll_id,
      questionId: data.question_id,
      optionIds: [optionId],
      voter,
      ...(a.id ? { idempotencyKey: `teams:${a.id}`.slice(0, 200) } : {}),
    });
    return { pollId: data.poll_id, voter, ...(r.ok ? {} : { notice: r.message }) };
  }

  app.on('message', async (ctx) => {
    const a: Activity = ctx.activity;
    // Action.Submit (clients without Universal Actions) arrives as a message carrying the button's data.
    if (a.value && (a.value as VoteData).verb === 'vote') {
      const r = await castFrom(a, a.value as VoteData);
      if (r) await ctx.send(r.notice ? `⚠️ ${r.notice}` : '✅ Your vote is in.');
      return;
    }
    const cmd = parseTeamsCommand(a.text);
    if (!cmd.ok) return void (await ctx.send(cmd.message));
    if (cmd.value.kind === 'help') {
      return void (await ctx.send(
        'Say **lunch** for a lunch poll, or **poll Question; Option A; Option B**.',
      ));
    }
    const creator = voterOf(a);
    const workspace = teamsWorkspace(creator.tenant);
    if (!workspace) return void (await ctx.send('⚠️ This conversation has no Teams tenant; polls need one.'));
    const created = await createChatPoll(
      core,
      workspace,
      creator,
      cmd.value.kind === 'lunch'
        ? { template: 'lunch' }
        : { template: 'choice', question: cmd.value.question, options: cmd.value.options },
    );
    if (!created.ok) return void (await ctx.send(`⚠️ ${created.message}`));
    const c = await card(created.value.poll.id);
    if (!c) return;
    const sent = await ctx.send({ type: 'message', attachments: [cardAttachment(c)] } as never);
    await o.tally.track({
      platform: 'teams',
      channel: a.conversation.id,
      message_id: (sent as { id: string }).id,
      poll_id: created.value.poll.id,
      meta: { serviceUrl: a.serviceUrl },
    });
  });

  app.on('card.action', async (ctx) => {
    const a: Activity = ctx.activity;
    const data = (a.value?.action?.data ?? {}) as VoteData;
    const verb: string | undefined = a.value?.action?.verb;
    let pollId = data.poll_id;
    let notice: string | undefined;
    let voter = voterOf(a);
    if (verb === 'vote') {
      const r = await castFrom(a, data);
      if (r) ({ pollId, notice, voter } = { pollId: r.pollId, notice: r.notice, voter: r.voter });
    }
    const c = pollId ? await card(pollId, voter, notice) : null;
    if (!c)
      return {
        statusCode: 200,
        type: 'application/vnd.microsoft.activity.message',
        value: 'This poll no longer exists.',
      } as never;
    // Universal Actions: the clicker gets the refreshed card, with their own vote, at once. (Our card is plain
    // JSON checked by the tests and by Teams; the SDK's card type is a builder class, hence the cast.)
    return { statusCode: 200, type: CARD_CONTENT_TYPE, value: c } as never;
  });

  await app.initialize(); // registers POST /api/messages on `router`

  /** Teams answers with HTTP statuses: 429/412/5xx and network errors pass; 403 (bot removed), 404, 413 do not. */
  const classify = (err: unknown): Outcome => {
    const status = (err as HttpError).response?.status;
    if (status === 429) {
      const after = Number((err as HttpError).response?.headers?.['retry-after'] ?? 1);
      return {
        ok: false,
        kind: 'retry',
        reason: 'http 429',
        rateLimited: true,
        retryAfterMs: (Number.isFinite(after) ? after : 1) * 1000,
      };
    }
    if (status === 403 || status === 404 || status === 413)
      return { ok: false, kind: 'permanent', reason: `http ${status}` };
    return { ok: false, kind: 'retry', reason: status ? `http ${status}` : String(err) };
  };
  const connectorCall = async (m: ChatMessage, f: (c: Client) => Promise<unknown>): Promise<Outcome> => {
    try {
      await f(app.connector(String(m.meta.serviceUrl)));
      return { ok: true };
    } catch (err) {
      return classify(err);
    }
  };

  const platform: ChatPlatform = {
    name: 'teams',
    // Teams limits per conversation (7 per 1 s, 8 per 2 s, 60 per 30 s) and per bot overall.
    budgets: (m) => [
      { key: `teams:${m.channel}`, points: 7, durationMs: 1_000 },
      { key: `teams:${m.channel}`, points: 8, durationMs: 2_000 },
      { key: `teams:${m.channel}`, points: 60, durationMs: 30_000 },
      { key: 'teams:bot', points: 50, durationMs: 1_000 },
    ],
    async update(m: ChatMessage, s: Snapshot): Promise<Outcome> {
      const poll = await core.snapshots.poll(m.poll_id);
      if (!poll) return { ok: false, kind: 'permanent', reason: 'unknown_poll' };
      const c = pollCard(poll, s, { publicUrl: o.publicUrl });
      return connectorCall(m, (x) =>
        x.conversations
          .activities(m.channel)
          .update(m.message_id, { type: 'message', attachments: [cardAttachment(c)] } as never),
      );
    },
    async announceWinner(m: ChatMessage, s: Snapshot): Promise<Outcome> {
      const text = winnerText(s, (name) => `**${name}**`);
      return connectorCall(m, (x) =>
        x.conversations
          .activities(m.channel)
          .create({ type: 'message', text, replyToId: m.message_id } as never),
      );
    },
  };
  return { router, platform };
}
