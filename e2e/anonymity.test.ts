// The anonymity audit: an anonymous poll that hides its results until close, voted on from the web (an employee
// number and a signed link), a Slack button and a Teams card, on a real Postgres with the audit outbox drained into
// an archive. Votes are changed, repeated, taken back, and the poll is closed. Then nothing the server kept or said
// may name a voter: no table (every column), no outbox row or archive document, no log line, no WebSocket frame, no
// answer to our requests, not /metrics and not the shared chat message. While the poll was open, nobody could see how
// many had voted, and a bare employee number could not read back anyone's choice.
import { Writable } from 'node:stream';
import { issueVoterToken, MemoryArchive, webVoter } from '@livevote/core';
import type { ServerFrame, Snapshot } from '@livevote/core/protocol';
import { createTestDatabase, TEST_ANONYMITY_KEY, type TestDatabase } from '@livevote/core/testing';
import pg from 'pg';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { type Booted, boot } from './boot.ts';
import { FakeConnector } from './chat/fake-connector.ts';
import { FakeSlack } from './chat/fake-slack.ts';
import { modalPlaceOptions } from './chat/slack-polls.ts';
import { slackRequests } from './chat/slack-requests.ts';

const SLACK_SECRET = 'slack-signing-secret-for-the-anonymity-audit';
const AUTH_SECRET = 'a-voter-token-secret-of-32-characters!!';

// The people. Distinctive values, so a hit is never a coincidence.
const WEB_EMP = '4242001'; // votes with a bare employee number, then changes the vote
const TOKEN_EMP = '4242002'; // votes through a signed link
const SLACK_USER = 'UALICE4242'; // clicks a button, the click is redelivered, then takes the vote back
const SLACK_ACTION_TS = '1700004242.424242';
const TEAMS_USER = 'tbob4242'; // Teams: from.id 29:tbob4242, aadObjectId aad-tbob4242-0000, "Bob Teams4242"
const TEAMS_ACTIVITY = `activity-${TEAMS_USER}-1`;
const CREATOR = 'UCAROL4242'; // creates and closes the poll in Slack; votes nowhere

interface Found {
  where: string;
  needle: string;
}

describe('anonymity audit: an anonymous, results-hidden poll across web, Slack and Teams', () => {
  const slack = new FakeSlack();
  const connector = new FakeConnector();
  const archive = new MemoryArchive();
  const logLines: string[] = [];
  const consoleLines: string[] = [];
  const frames: string[] = [];
  const responses: string[] = [];
  let db: TestDatabase;
  let pool: pg.Pool;
  let app: Booted;
  let socket: WebSocket;
  let send: ReturnType<typeof slackRequests>;
  let token: string;
  let pollId: string;
  let P1: string | undefined;
  let P2: string | undefined;
  let P3: string | undefined;
  let messageTs: string;
  let slackDeliveryId: string;
  /** Every table's rows while the poll was open (its audit rows still in the outbox), and after it was archived. */
  const dumps: Record<string, string> = {};
  let auditRowsWhileOpen = 0;

  /** Our request, its answer recorded whole (status, headers, body). */
  async function call(path: string, init: RequestInit = {}) {
    const res = await fetch(`${app.base}${path}`, init);
    const text = await res.text();
    // The path without its query: what we sent is not what the server said.
    responses.push(
      `${init.method ?? 'GET'} ${path.split('?')[0]} → ${res.status} ${JSON.stringify([...res.headers])} ${text}`,
    );
    return { status: res.status, text, json: <T>() => JSON.parse(text) as T };
  }
  const recorded = async (res: Promise<Response>) => {
    const r = await res;
    responses.push(`slack → ${r.status} ${JSON.stringify([...r.headers])} ${await r.clone().text()}`);
    return r;
  };
  const json = (body: unknown, headers: Record<string, string> = {}) => ({
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  const webVote = (who: string, optionIds: string[], key: string) =>
    call(
      `/api/polls/${pollId}/votes?${who}`,
      json({ question_id: 'place', option_ids: optionIds }, { 'idempotency-key': key }),
    );
  const snapshotNow = async () =>
    (await call(`/api/polls/${pollId}`)).json<{ snapshot: Snapshot }>().snapshot;
  const slackPayload = (user: string, action: Record<string, unknown>) => ({
    type: 'block_actions',
    team: { id: 'T1' },
    user: { id: user, team_id: 'T1' },
    channel: { id: 'C1' },
    container: { type: 'message', message_ts: messageTs, channel_id: 'C1' },
    trigger_id: 'trig',
    actions: [action],
  });
  const ephemeralTo = (user: string, text: string) =>
    slack.of('chat.postEphemeral').filter((c) => c.body.user === user && String(c.body.text).includes(text))
      .length;
  const updates = () =>
    frames
      .map((f) => JSON.parse(f) as ServerFrame)
      .filter((f) => f.type === 'vote_update' || f.type === 'poll_closed');

  async function dumpDatabase(): Promise<string> {
    const tables = await pool.query<{ name: string }>(
      `select table_name as name from information_schema.tables
       where table_schema = 'public' and table_type = 'BASE TABLE' order by 1`,
    );
    const lines: string[] = [];
    for (const { name } of tables.rows) {
      // The creator's key stays where closing needs it (created_by), and is looked for everywhere else.
      const row = name === 'polls' ? `to_jsonb(t) - 'created_by'` : 't::text';
      const rows = await pool.query<{ row: string }>(`select ${row} as row from "${name}" t`);
      for (const r of rows.rows)
        lines.push(`${name}: ${typeof r.row === 'string' ? r.row : JSON.stringify(r.row)}`);
    }
    return lines.join('\n');
  }

  beforeAll(async () => {
    for (const level of ['log', 'info', 'warn', 'error', 'debug'] as const)
      vi.spyOn(console, level).mockImplementation((...args: unknown[]) => {
        consoleLines.push(args.map((a) => (typeof a === 'string' ? a : JSON.stringify(a))).join(' '));
      });
    await Promise.all([slack.start(), connector.start()]);
    db = await createTestDatabase();
    pool = new pg.Pool({ connectionString: db.url, max: 2 });
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logLines.push(chunk.toString());
        done();
      },
    });
    app = await boot(
      {
        DATABASE_URL: db.url,
        ADMIN_TOKEN: 'an-e2e-admin-token-0123456789',
        ANONYMITY_KEY: TEST_ANONYMITY_KEY,
        AUTH_SECRET,
        SLACK_SIGNING_SECRET: SLACK_SECRET,
        SLACK_BOT_TOKEN: 'xoxb-anonymity-audit',
        SLACK_API_URL: slack.url,
        TEAMS_ALLOW_UNAUTHENTICATED: 'true',
        LOG_LEVEL: 'debug',
        WEB_APP: 'off',
      },
      { log: pino({ level: 'debug' }, sink), overrides: { archive } },
    );
    send = slackRequests(app.base, SLACK_SECRET, slack.url);
    token = issueVoterToken(AUTH_SECRET, webVoter(TOKEN_EMP), 3600);
  }, 120_000);

  afterAll(async () => {
    socket?.close();
    await app?.stop();
    await pool?.end();
    await db?.drop();
    await Promise.all([slack.stop(), connector.stop()]);
    vi.restoreAllMocks();
  });

  // The session; the tests after it look at what it left behind.
  it('takes votes from every edge, a change, a repeat, a redelivery and a take-back, and closes', async () => {
    // The poll: Slack's /lunch modal, anonymous and hiding its results.
    await recorded(send.command('/lunch', '', CREATOR));
    await expect.poll(() => slack.of('views.open').length).toBe(1);
    const view = slack.of('views.open')[0]?.body.view as { private_metadata: string };
    const submission = {
      type: 'view_submission',
      team: { id: 'T1' },
      user: { id: CREATOR, team_id: 'T1' },
      view: {
        id: 'V1',
        callback_id: 'lunch-modal',
        private_metadata: view.private_metadata,
        state: {
          values: {
            title: { v: { type: 'plain_text_input', value: 'Anonymous lunch' } },
            places: {
              v: {
                type: 'multi_static_select',
                selected_options: modalPlaceOptions(view).slice(0, 3),
              },
            },
            settings: {
              v: {
                type: 'checkboxes',
                selected_options: [{ value: 'anonymous' }, { value: 'results_hidden' }],
              },
            },
          },
        },
      },
    };
    expect((await recorded(send.action(submission))).status).toBe(200);
    await expect.poll(() => slack.of('chat.postMessage').length).toBe(1);
    const posted = JSON.stringify(slack.of('chat.postMessage')[0]?.body.blocks);
    pollId = posted.match(/"value":"([a-z0-9]+)\|[a-z0-9]+"/)?.[1] as string;
    await expect
      .poll(
        async () => (await pool.query('select 1 from chat_messages where poll_id = $1', [pollId])).rowCount,
      )
      .toBe(1);
    const message = await pool.query<{ id: string }>(
      'select message_id as id from chat_messages where poll_id = $1',
      [pollId],
    );
    messageTs = message.rows[0]?.id as string;
    slackDeliveryId = `slack:${messageTs}:${SLACK_ACTION_TS}:${SLACK_USER}`;
    const created = (await call(`/api/polls/${pollId}`)).json<{
      poll: { settings: Record<string, unknown>; questions: { options: { id: string }[] }[] };
    }>();
    // The places' option ids are their catalog ids.
    [P1, P2, P3] = created.poll.questions[0]?.options.map((o) => o.id) ?? [];
    expect(created.poll.settings).toMatchObject({
      anonymous: true,
      results_hidden: true,
      show_turnout: false,
    });

    // A board's socket (no identity), recording every frame.
    socket = new WebSocket(`${app.base.replace('http', 'ws')}/ws/votes?poll_id=${pollId}`);
    socket.on('message', (data) => frames.push(String(data)));
    await expect.poll(() => updates().length).toBeGreaterThan(0);

    // The web: a bare employee number votes, repeats the request, changes the vote; a signed link votes.
    expect((await webVote(`emp_no=${WEB_EMP}`, [P1 as string], `web-${WEB_EMP}-first`)).status).toBe(200);
    expect((await webVote(`emp_no=${WEB_EMP}`, [P1 as string], `web-${WEB_EMP}-first`)).json()).toMatchObject(
      {
        replayed: true,
      },
    );
    expect(
      (await webVote(`emp_no=${WEB_EMP}`, [P2 as string], `web-${WEB_EMP}-second`)).json(),
    ).toMatchObject({
      changed: true,
    });
    expect(
      (await webVote(`token=${encodeURIComponent(token)}`, [P1 as string], `web-${TOKEN_EMP}-first`)).status,
    ).toBe(200);

    // Slack: a click, the same click redelivered, then "Take back my vote".
    const click = slackPayload(SLACK_USER, {
      type: 'button',
      action_id: `vote-${P2}`,
      block_id: `opt-${P2}`,
      value: `${pollId}|${P2}`,
      action_ts: SLACK_ACTION_TS,
    });
    await recorded(send.action(click));
    await expect.poll(() => ephemeralTo(SLACK_USER, 'Your vote')).toBe(1);
    // Slack signs a redelivery anew, with a later timestamp (an identical request is a replay and is dropped).
    await recorded(
      send.action(
        click,
        { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' },
        Math.floor(Date.now() / 1000) + 2,
      ),
    );
    await expect.poll(() => ephemeralTo(SLACK_USER, 'Your vote')).toBe(2);
    await recorded(
      send.action(
        slackPayload(SLACK_USER, { type: 'button', action_id: 'retract', value: pollId, action_ts: '1.2' }),
      ),
    );
    await expect.poll(() => ephemeralTo(SLACK_USER, 'taken back')).toBe(1);

    // Teams: an Action.Execute invoke; the card that comes back shows the clicker their own vote.
    const invoke = await call(
      '/api/messages',
      json({
        id: TEAMS_ACTIVITY,
        type: 'invoke',
        name: 'adaptiveCard/action',
        channelId: 'msteams',
        serviceUrl: connector.url,
        from: { id: `29:${TEAMS_USER}`, aadObjectId: `aad-${TEAMS_USER}-0000`, name: 'Bob Teams4242' },
        recipient: { id: '28:bot', name: 'livevote' },
        conversation: { id: 'conv-anon', tenantId: 'tenant-anon', conversationType: 'channel' },
        timestamp: new Date().toISOString(),
        value: {
          action: {
            type: 'Action.Execute',
            verb: 'vote',
            data: { verb: 'vote', poll_id: pollId, question_id: 'place', option_id: P3 },
          },
        },
      }),
    );
    expect(invoke.status).toBe(200);
    expect(invoke.text).toContain('✅');

    // The board has caught up with every vote before the poll closes.
    const open = await snapshotNow();
    await expect
      .poll(() => Math.max(...updates().map((f) => (f.type === 'vote_update' ? f.data.version : 0))))
      .toBe(open.version);
    dumps['database while open'] = await dumpDatabase();
    const audit = await pool.query<{ n: number }>(
      `select count(*)::int as n from outbox where poll_id = $1 and doc->>'type' in ('vote', 'retract')`,
      [pollId],
    );
    auditRowsWhileOpen = audit.rows[0]?.n ?? 0;

    // Closed by its creator, in Slack; then the archive receives the audit log and the closed poll.
    await recorded(
      send.action(
        slackPayload(CREATOR, {
          type: 'button',
          action_id: 'close-poll',
          value: pollId,
          action_ts: 'close-1',
        }),
      ),
    );
    await expect.poll(async () => (await snapshotNow()).status).toBe('closed');
    await expect.poll(() => updates().some((f) => f.type === 'poll_closed')).toBe(true);
    await expect
      .poll(() => slack.of('chat.postMessage').some((c) => c.body.thread_ts === messageTs))
      .toBe(true);
    await expect.poll(async () => (await archive.archived(pollId)) !== null, { timeout: 20_000 }).toBe(true);
    dumps['database after archiving'] = await dumpDatabase();
  }, 120_000);

  it('counted each person once, and only their last choice', async () => {
    const final = await snapshotNow();
    expect(final.total_voters).toBe(3); // the web two and Teams; Slack took its vote back
    expect(final.place_votes?.map((p) => p.vote_count)).toEqual([1, 1, 1]);
    const ballots = await pool.query<{ voter_key: string }>(
      'select voter_key from ballots where poll_id = $1',
      [pollId],
    );
    expect(ballots.rows).toHaveLength(3);
    expect(ballots.rows.every((b) => /^anon:[0-9a-f]{64}$/.test(b.voter_key))).toBe(true);
  });

  it('tells a bare employee number nothing, and a signed link its own choice', async () => {
    const bare = await call(`/api/polls/${pollId}/my-votes?emp_no=${WEB_EMP}`);
    expect(bare.status).toBe(403);
    expect(bare.json<{ error: { code: string } }>().error.code).toBe('token_required');
    const signed = await call(`/api/polls/${pollId}/my-votes?token=${encodeURIComponent(token)}`);
    expect(signed.json()).toEqual({ ballots: { place: [P1] } });
  });

  it('showed no count, not even how many had voted, until the poll closed', () => {
    const all = updates();
    const closedAt = all.findIndex(
      (f) => f.type === 'poll_closed' || (f.type === 'vote_update' && f.data.status === 'closed'),
    );
    const whileOpen = all.slice(0, closedAt).flatMap((f) => (f.type === 'vote_update' ? [f.data] : []));
    expect(whileOpen.some((s) => s.version > 0)).toBe(true);
    for (const s of whileOpen) {
      expect([s.total_voters, ...s.questions.map((q) => q.voters)].every((n) => n === 0)).toBe(true);
      expect(s.questions.flatMap((q) => q.options).every((o) => o.vote_count === 0)).toBe(true);
    }
    const sharedWhileOpen = slack
      .of('chat.update')
      .filter((c) => !JSON.stringify(c.body.blocks).includes(':trophy:'))
      .map((c) => JSON.stringify(c.body.blocks));
    expect(sharedWhileOpen.length).toBeGreaterThan(0);
    for (const m of sharedWhileOpen) expect(m).not.toMatch(/\d+ voters?/);
  });

  it('wrote the audit log through the outbox, and the archive holds the closed poll', async () => {
    expect(auditRowsWhileOpen).toBeGreaterThanOrEqual(5);
    const audit = await archive.auditOf(pollId);
    expect(audit.filter((e) => e.type === 'vote' || e.type === 'retract').length).toBeGreaterThanOrEqual(5);
    expect(audit.some((e) => e.type === 'poll_closed')).toBe(true);
  });

  it('names no voter anywhere: tables, outbox, archive, logs, frames, answers, /metrics, shared messages', async () => {
    const metrics = await call('/metrics');
    expect(metrics.status).toBe(200);
    const csv = await call(`/api/polls/${pollId}/export.csv`, {
      headers: { authorization: `Bearer ${app.running.adminToken}` },
    });
    expect(csv.status).toBe(200);
    const shared = slack.calls.filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update');
    const corpora: Record<string, string> = {
      ...dumps,
      'archive: audit log': JSON.stringify([...archive.audit.values()]),
      'archive: closed polls': JSON.stringify([...archive.polls.values()]),
      'log lines': logLines.join(''),
      'console output': consoleLines.join('\n'),
      'WebSocket frames': frames.join('\n'),
      'answers to our requests': responses.join('\n'),
      '/metrics': metrics.text,
      'shared Slack messages': JSON.stringify(shared.map((c) => c.body)),
      'Teams connector': JSON.stringify(connector.calls.map((c) => c.body)),
    };
    expect(logLines.length).toBeGreaterThan(0);
    const needles = [
      WEB_EMP,
      TOKEN_EMP,
      SLACK_USER,
      SLACK_ACTION_TS,
      slackDeliveryId,
      TEAMS_USER,
      TEAMS_ACTIVITY,
      'Bob Teams4242',
      token,
      CREATOR,
    ];
    const found: Found[] = [];
    for (const [where, text] of Object.entries(corpora))
      for (const needle of needles) if (text.includes(needle)) found.push({ where, needle });
    expect(found).toEqual([]);
    // The creator is kept exactly where closing needs it.
    const creator = await pool.query('select created_by from polls where id = $1', [pollId]);
    expect(creator.rows).toEqual([{ created_by: `slack:T1:${CREATOR}` }]);
  });
});
