// A Postgres outage end to end, on a private Postgres this test stops and freezes (never the machine's): every edge
// answers honestly (503 + Retry-After, a WebSocket error frame, a chat message), nothing crashes, an outage costs
// at most about a log line a second, and everything comes back by itself when Postgres does.
import { type PrivatePostgres, startPrivatePostgres, TEST_ANONYMITY_KEY } from '@livevote/core/testing';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type Booted, boot } from '../boot.ts';
import { FakeConnector } from '../chat/fake-connector.ts';
import { FakeSlack } from '../chat/fake-slack.ts';
import { slackRequests } from '../chat/slack-requests.ts';

const ADMIN = 'outage-test-admin-token-0123456789';
const SECRET = 'slack-signing-secret-for-outage-tests';

interface LogLine {
  level: number;
  time: number;
  msg: string;
  error?: Record<string, unknown> | string;
  suppressed?: number;
}

describe('a Postgres outage', () => {
  const slack = new FakeSlack();
  const connector = new FakeConnector();
  const lines: LogLine[] = [];
  let postgres: PrivatePostgres;
  let app: Booted;
  let pollId: string;
  let emp = 1000;

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    await slack.start();
    await connector.start();
    const log = pino({ level: 'info' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
    app = await boot(
      {
        DATABASE_URL: postgres.url,
        ANONYMITY_KEY: TEST_ANONYMITY_KEY,
        WEB_APP: 'off',
        ADMIN_TOKEN: ADMIN,
        SLACK_SIGNING_SECRET: SECRET,
        SLACK_BOT_TOKEN: 'xoxb-test',
        SLACK_API_URL: slack.url,
        TEAMS_ALLOW_UNAUTHENTICATED: 'true',
      },
      { log },
    );
    const created = await fetch(`${app.base}/api/polls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
      body: JSON.stringify({ template: 'choice', title: 'Outage?', options: ['Pho', 'Bibimbap'] }),
    });
    expect(created.status).toBe(201);
    pollId = ((await created.json()) as { poll: { id: string } }).poll.id;
  }, 120_000);

  afterAll(async () => {
    postgres?.thaw();
    await postgres?.start().catch(() => {}); // running already, unless a test failed while it was stopped
    await app?.stop();
    await postgres?.remove();
    await slack.stop();
    await connector.stop();
  });

  const vote = (signal = AbortSignal.timeout(60_000)) =>
    fetch(`${app.base}/api/polls/${pollId}/votes?emp_no=${++emp}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question_id: 'q1', option_ids: ['o1'] }),
      signal,
    });

  async function expectUnavailable(res: Response): Promise<void> {
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toMatchObject({ error: { code: 'store_unavailable' } });
  }

  /** A WebSocket to the poll: what it is told and how it is closed. */
  function watch(): Promise<{ frames: { type: string; data: { code?: string } }[]; code: number }> {
    const ws = new WebSocket(`${app.base.replace('http', 'ws')}/ws/votes?poll_id=${pollId}`);
    const frames: { type: string; data: { code?: string } }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    return new Promise((resolve) => ws.on('close', (code) => resolve({ frames, code })));
  }

  /** The log lines since `from` that an operator would see as trouble (warn and above). */
  const trouble = (from: number) => lines.slice(from).filter((l) => l.level >= 40);

  it('answers 503 with Retry-After while Postgres is stopped, never 500; logs ≤ ~1 line/s; recovers by itself', async () => {
    expect((await vote()).status).toBe(200);
    await postgres.stop();
    const from = lines.length;
    const started = Date.now();

    // Requests keep coming for a few seconds: votes, reads, a poll nobody cached, readiness.
    const statuses: number[] = [];
    while (Date.now() - started < 4_000) {
      const burst = await Promise.all([vote(), vote(), fetch(`${app.base}/api/polls/${pollId}`)]);
      for (const r of burst) {
        statuses.push(r.status);
        await expectUnavailable(r);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await expectUnavailable(await fetch(`${app.base}/api/polls/NOSUCHPOLLYET`));
    const ready = await fetch(`${app.base}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ status: 'unavailable', checks: { store: 'down' } });

    // A WebSocket is told why and closed with 1013 (try again later), so it reconnects; an SSE stream ends.
    const socket = await watch();
    expect(socket.frames.map((f) => f.data.code ?? f.type)).toContain('store_unavailable');
    expect(socket.code).toBe(1013);
    const sse = await fetch(`${app.base}/api/polls/${pollId}/events`, {
      signal: AbortSignal.timeout(30_000),
    });
    if (sse.status === 200)
      await sse.text(); // the stream ends instead of hanging open
    else await expectUnavailable(sse);

    // The chat edges tell the person instead of failing silently (Slack already has its ack).
    const { command, action } = slackRequests(app.base, SECRET, slack.url);
    expect((await command('/vote', '"Down?" "Yes" "No"', 'U77')).status).toBe(200);
    // A vote click is acknowledged only once its vote is committed (or after 2.5 s): in an outage it fails at once
    // with a 500, and the person is told to try again (Slack does not send a click again) instead of the vote being
    // silently lost.
    const click = await action({
      type: 'block_actions',
      team: { id: 'T1' },
      user: { id: 'U78', team_id: 'T1' },
      channel: { id: 'C1' },
      container: { type: 'message', message_ts: '1700000000.000100', channel_id: 'C1' },
      trigger_id: 'trig-outage',
      actions: [
        { type: 'button', action_id: 'vote-o1', block_id: 'opt-o1', value: `${pollId}|o1`, action_ts: '9.1' },
      ],
    });
    expect(click.status).toBe(500);
    await expect
      .poll(() => slack.of('chat.postEphemeral').map((c) => `${c.body.user} ${c.body.text}`))
      .toContainEqual(expect.stringMatching(/^U77 .*cannot reach its database/));
    const teams = await fetch(`${app.base}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        type: 'message',
        id: 'outage-1',
        channelId: 'msteams',
        serviceUrl: connector.url,
        text: 'poll Down?; Yes; No',
        from: { id: '29:u1', aadObjectId: 'aad-u1' },
        recipient: { id: '28:bot' },
        conversation: { id: 'conv-outage', tenantId: 'tenant-1' },
      }),
    });
    expect(teams.status).toBe(200);
    expect(connector.posts().map((c) => String(c.body.text))).toContainEqual(
      expect.stringContaining('cannot reach its database'),
    );

    // Let the last folded line out, then count: about a line a second, no errors, no stacks, and every failed
    // request accounted for.
    await new Promise((r) => setTimeout(r, 1_200));
    const seconds = (Date.now() - started) / 1000;
    const seen = trouble(from);
    expect(seen.length).toBeLessThanOrEqual(Math.ceil(seconds) + 2);
    expect(seen.filter((l) => l.level >= 50)).toEqual([]);
    expect(JSON.stringify(seen)).not.toContain('"stack"');
    const outage = seen.filter((l) => l.msg === 'store unavailable');
    expect(outage.reduce((n, l) => n + 1 + (l.suppressed ?? 0), 0)).toBeGreaterThanOrEqual(statuses.length);

    await postgres.start();
    await expect.poll(async () => (await vote()).status, { timeout: 20_000 }).toBe(200);
    expect((await fetch(`${app.base}/readyz`)).status).toBe(200);
    const back = await firstFrames();
    expect(back).toContain('vote_update');
    expect((await command('/vote', '"Back?" "Yes" "No"', 'U77')).status).toBe(200);
    await expect
      .poll(() => slack.of('chat.postMessage').some((c) => JSON.stringify(c.body.blocks).includes('Back?')))
      .toBe(true);
  }, 120_000);

  it('answers 503 while Postgres is frozen (SIGSTOP) instead of hanging, and recovers when it resumes', async () => {
    // Connections in the pool that will be stuck with it.
    await Promise.all([vote(), vote(), fetch(`${app.base}/api/polls/${pollId}`)]);
    const from = lines.length;
    postgres.freeze();
    try {
      const [a, b, read, ready, socket] = await Promise.all([
        vote(),
        vote(),
        fetch(`${app.base}/api/polls/NOTCACHED0000`, { signal: AbortSignal.timeout(60_000) }),
        fetch(`${app.base}/readyz`, { signal: AbortSignal.timeout(60_000) }),
        watch(),
      ]);
      for (const r of [a, b, read]) await expectUnavailable(r);
      expect(ready.status).toBe(503);
      expect(socket.code).toBe(1013);
      expect(trouble(from).filter((l) => l.level >= 50)).toEqual([]);
    } finally {
      postgres.thaw();
    }
    await expect.poll(async () => (await vote()).status, { timeout: 20_000 }).toBe(200);
    expect((await fetch(`${app.base}/readyz`)).status).toBe(200);
  }, 120_000);

  /** Opens a WebSocket to the poll, waits for its first snapshot, closes it; returns the frame types seen. */
  function firstFrames(): Promise<string[]> {
    const ws = new WebSocket(`${app.base.replace('http', 'ws')}/ws/votes?poll_id=${pollId}`);
    const types: string[] = [];
    return new Promise((resolve, reject) => {
      ws.on('message', (d) => {
        types.push((JSON.parse(String(d)) as { type: string }).type);
        if (types.includes('vote_update')) ws.close();
      });
      ws.on('close', () => resolve(types));
      ws.on('error', reject);
    });
  }
});
