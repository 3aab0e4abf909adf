// The fault suite: the production topology (2 realtime + 1 bot as separate processes, compiled bundle) on a private
// Postgres cluster and a private redis-server, and five faults, each in the middle of an open-loop burst of votes on
// a fresh lunch poll: Postgres stopped, Postgres frozen, Redis restarted, a realtime instance SIGKILLed, the bot
// SIGKILLed under Slack clicks. Clients behave like real ones (retry a failed request with the same Idempotency-Key or
// Slack delivery, reconnect a closed WebSocket). Afterwards every vote is replayed and the store is compared with
// what was acknowledged: lost, doubled, time to recover, clients on the final version.
//
// `npm run bench:faults` writes its section of bench/RESULTS.md and exits 1 if any vote was lost or doubled (2 if a
// scenario hung or the suite ran out of time); `npm run bench:faults -- <word>` runs only the faults whose name
// contains the word and only prints.
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import http from 'node:http';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { PollResponse } from '@livevote/core/protocol';
import { freePort, type PrivateRedis, startPrivateRedis, TEST_ANONYMITY_KEY } from '@livevote/core/testing';
import pg from 'pg';
import { FakeSlack, slackHeaders } from '../e2e/chat/fake-slack.ts';
import { COMPILED, exited, type Instance, ROOT, spawnInstance, waitReady } from './lib/instances.ts';
import { createPgCluster, type PgCluster } from './lib/pg-cluster.ts';
import { machine, writeSection } from './lib/results.ts';
import { Viewer } from './lib/viewers.ts';

const ADMIN = 'faults-admin-token-0123456789';
const SLACK_SECRET = 'faults-slack-signing-secret';
const TEAM = 'T1';
const CHANNEL = 'C1';

const VOTE_RATE = 80; // per second, HTTP
const CLICK_RATE = 60; // per second, Slack
const BURST_MS = 6_000;
/** After the burst, until the healed part acknowledged a vote: a restarted process can take longer than the burst. */
const TRICKLE_RATE = 10;
const TRICKLE_MS = 20_000;
const FAULT_AT_MS = 2_000;
const HEAL_AT_MS = 4_000;
/** A client gives a vote up this long after it first sent it. */
const GIVE_UP_MS = 20_000;
/** A browser-ish request timeout; Slack gives an app 3 s to answer. */
const HTTP_TIMEOUT_MS = 5_000;
const SLACK_TIMEOUT_MS = 3_000;
/** How long a click answered 200 may take to tell the person whether it was saved (a commit under a frozen database). */
const CLICK_TOLD_WITHIN_MS = 15_000;
const VIEWERS_PER_INSTANCE = 3;
const CONVERGE_MS = 15_000;
const SCENARIO_LIMIT_MS = 75_000;
const SUITE_LIMIT_MS = 5 * 60_000;

const now = () => performance.timeOrigin + performance.now();
const secs = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
/** Client retry backoff: 100 ms doubling to 2 s, each scaled by a random 50–100 %. */
const backoff = (attempt: number) => Math.min(2_000, 100 * 2 ** attempt) * (0.5 + Math.random() * 0.5);

// ---- the stack ------------------------------------------------------------------------------------------------

type Role = 'realtime' | 'bot';

/** Every process ever started, so none outlives the suite (a hung scenario may still restart one behind our back). */
const children = new Set<Instance['child']>();

/** One process slot: the same port and environment across restarts. */
class Slot {
  instance?: Instance;
  constructor(
    readonly label: string,
    readonly port: number,
    private readonly env: Record<string, string | undefined>,
    private readonly logFile: string,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  alive(): boolean {
    const c = this.instance?.child;
    return !!c && c.exitCode === null && c.signalCode === null;
  }

  async start(): Promise<void> {
    this.instance = spawnInstance({ port: this.port, env: this.env, args: COMPILED, logFile: this.logFile });
    children.add(this.instance.child);
    await waitReady(this.instance, 120);
  }

  async kill(): Promise<void> {
    const c = this.instance?.child;
    if (!c) return;
    c.kill('SIGKILL');
    await exited(c);
  }
}

interface Stack {
  pg: PgCluster;
  pgDown: boolean;
  redis: PrivateRedis;
  redisDown: boolean;
  slack: FakeSlack;
  realtime: Slot[];
  bot: Slot;
  logDir: string;
}

/** Undo whatever a scenario left broken (it hung, or failed half-way), so the next one starts healthy. */
async function heal(stack: Stack): Promise<void> {
  stack.pg.thaw();
  if (stack.pgDown) {
    await stack.pg.start().catch(() => undefined);
    stack.pgDown = false;
  }
  if (stack.redisDown) {
    await stack.redis.start();
    stack.redisDown = false;
  }
  for (const slot of [...stack.realtime, stack.bot]) {
    if (!slot.alive()) await slot.start();
    else if (slot.instance) await waitReady(slot.instance, 120);
  }
}

// ---- HTTP ----------------------------------------------------------------------------------------------------

type Answer = { status: number; text: string; headers: http.IncomingHttpHeaders } | { error: string };

const agents = new Map<number, http.Agent>();
const agentFor = (port: number) => {
  let a = agents.get(port);
  if (!a) {
    a = new http.Agent({ keepAlive: true, maxSockets: 64 });
    agents.set(port, a);
  }
  return a;
};

function post(
  port: number,
  path: string,
  body: string,
  headers: Record<string, string>,
  timeoutMs: number,
): Promise<Answer> {
  return new Promise((resolve) => {
    let done = false;
    const finish = (a: Answer) => {
      if (done) return;
      done = true;
      resolve(a);
    };
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method: 'POST',
        path,
        agent: agentFor(port),
        // With a Content-Length the body leaves with the headers (chunked, it would wait out Nagle + delayed ACK).
        headers: { ...headers, 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => finish({ status: res.statusCode ?? 0, text, headers: res.headers }));
        res.on('error', (e) => finish({ error: e.message }));
      },
    );
    req.setTimeout(timeoutMs, () => req.destroy(Object.assign(new Error('timeout'), { code: 'TIMEOUT' })));
    req.on('error', (e: NodeJS.ErrnoException) => finish({ error: e.code ?? e.message }));
    req.end(body);
  });
}

async function api<T>(base: string, path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(`${base}${path}`, {
    ...init,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}`, ...init.headers },
  });
  if (!res.ok) throw new Error(`${init.method ?? 'GET'} ${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

const readPoll = (base: string, pollId: string) =>
  api<PollResponse>(base, `/api/polls/${pollId}`).then((r) => r.snapshot);

/** The admin export: one row per (ballot, option) with its voter. */
async function readBallots(base: string, pollId: string): Promise<{ voter: string; option: string }[]> {
  const res = await fetch(`${base}/api/polls/${pollId}/export.csv`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  if (!res.ok) throw new Error(`export.csv: ${res.status}`);
  const rows = parseCsv((await res.text()).replace(/^\ufeff/, ''));
  const head = rows.shift() ?? [];
  const col = (name: string) => head.indexOf(name);
  const [q, o, v] = [col('question_id'), col('option_id'), col('voter')];
  return rows.filter((r) => r[q] === 'place').map((r) => ({ voter: r[v] ?? '', option: r[o] ?? '' }));
}

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i] as string;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n') {
      row.push(cell.replace(/\r$/, ''));
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) rows.push([...row, cell]);
  return rows;
}

// ---- clients -------------------------------------------------------------------------------------------------

interface Sent {
  i: number;
  /** The voter as the export names it. */
  voter: string;
  option: string;
  firstAt: number;
  ackAt?: number;
  ackPort?: number;
  tries: number;
  errors: number;
  serverErrors: number;
  refused?: number;
  gaveUp: boolean;
  /** Sends it again exactly as the first time (same key or delivery); resolves to the status or error. */
  replay(): Promise<Answer>;
  /** Resolves once it was acknowledged, refused or given up. */
  settled: Promise<void>;
}

/**
 * Sends until acknowledged (200), refused (a status `retry` says not to repeat) or out of time; every failure is
 * retried with backoff, each attempt built by `attempt(k)`.
 */
async function deliver(
  s: Sent,
  attempt: (k: number) => Promise<{ port: number; answer: Answer }>,
  retry: (status: number) => boolean,
): Promise<void> {
  const giveUpAt = s.firstAt + GIVE_UP_MS;
  for (let k = 0; ; k++) {
    s.tries++;
    const { port, answer } = await attempt(k);
    if ('status' in answer && answer.status === 200) {
      s.ackAt = now();
      s.ackPort = port;
      return;
    }
    if ('status' in answer && !retry(answer.status)) {
      s.refused = answer.status;
      return;
    }
    if ('error' in answer) s.errors++;
    else s.serverErrors++;
    const wait = backoff(k);
    if (now() + wait > giveUpAt) {
      s.gaveUp = true;
      return;
    }
    await sleep(wait);
  }
}

/**
 * Open loop: send i at t0 + i/rate whatever the answers. Then, until `recovered()` says the healed part has
 * acknowledged something (a restarted process may be ready only after the burst), a trickle at TRICKLE_RATE for at
 * most TRICKLE_MS. Resolves with the number sent once every send has settled.
 */
async function openLoop(
  t0: number,
  n: number,
  rate: number,
  send: (i: number) => Promise<void>,
  recovered: () => boolean,
): Promise<number> {
  const all: Promise<void>[] = [];
  let i = 0;
  for (; i < n; i++) {
    const wait = t0 + (i * 1000) / rate - now();
    if (wait > 0) await sleep(wait);
    all.push(send(i));
  }
  const end = now() + TRICKLE_MS;
  while (!recovered() && now() < end) {
    await sleep(1000 / TRICKLE_RATE);
    all.push(send(i++));
  }
  await Promise.all(all);
  return i;
}

/** Web votes spread over the realtime instances; a retry goes to the next one, as a round-robin balancer would. */
function webVoter(stack: Stack, pollId: string, run: string, scenario: number) {
  const ports = stack.realtime.map((s) => s.port);
  return (i: number): Sent => {
    const emp = String(scenario * 100_000 + i);
    const option = `p${(i % 3) + 1}`;
    const key = `faults-${run}-${scenario}-${i}`;
    const body = JSON.stringify({ question_id: 'place', option_ids: [option] });
    const path = `/api/polls/${pollId}/votes?emp_no=${emp}`;
    const headers = { 'content-type': 'application/json', 'idempotency-key': key };
    const portFor = (k: number) => ports[(i + k) % ports.length] as number;
    const s: Sent = {
      i,
      voter: `emp:${emp}`,
      option,
      firstAt: now(),
      tries: 0,
      errors: 0,
      serverErrors: 0,
      gaveUp: false,
      replay: () => post(portFor(0), path, body, headers, HTTP_TIMEOUT_MS),
      settled: Promise.resolve(),
    };
    s.settled = deliver(
      s,
      async (k) => ({
        port: portFor(k),
        answer: await post(portFor(k), path, body, headers, HTTP_TIMEOUT_MS),
      }),
      (status) => status >= 500,
    );
    return s;
  };
}

/**
 * What the bot told a person in an ephemeral message since `since`: 'saved' (":white_check_mark: Your vote…"),
 * 'refused' (":warning: …"), or undefined if it said nothing within `withinMs`.
 */
async function toldAfter(
  slack: FakeSlack,
  user: string,
  since: number,
  withinMs: number,
): Promise<'saved' | 'refused' | undefined> {
  const until = now() + withinMs;
  for (;;) {
    for (const c of slack.calls) {
      if (c.method !== 'chat.postEphemeral' || c.at < since || c.body.user !== user) continue;
      const text = String(c.body.text ?? '');
      if (text.startsWith(':white_check_mark:')) return 'saved';
      if (text.startsWith(':warning:')) return 'refused';
    }
    if (now() >= until) return undefined;
    await sleep(20);
  }
}

/**
 * Slack button clicks to the bot: a signed block_actions payload per click. Slack never sends a click again, and
 * the bot answers it within 2.5 s whether or not its commit is done; what the person learns is the ephemeral
 * confirmation or warning that follows. So a click counts as acknowledged when the person was told it was saved;
 * a failed delivery (no 200 within 3 s) or a warning stands for the person clicking again: the same payload, sent
 * with X-Slack-Retry-Num and a fresh signature (which the bot must count once, like any repeat).
 */
function slackClicker(stack: Stack, poll: SlackPoll, scenario: number) {
  const port = stack.bot.port;
  const { pollId, ts: messageTs, places } = poll;
  return (i: number): Sent => {
    const user = `U${scenario * 100_000 + i}`;
    const option = places[i % places.length] as string;
    const payload = {
      type: 'block_actions',
      team: { id: TEAM },
      user: { id: user, team_id: TEAM },
      channel: { id: CHANNEL },
      container: { type: 'message', message_ts: messageTs, channel_id: CHANNEL },
      trigger_id: `trig-${i}`,
      actions: [
        {
          type: 'button',
          action_id: `vote-${option}`,
          block_id: `opt-${option}`,
          value: `${pollId}|${option}`,
          action_ts: `${Math.floor(Date.now() / 1000)}.${String(i).padStart(6, '0')}`,
        },
      ],
    };
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    let lastFailure = 'http_error';
    const send = async (retryNum: number) => {
      const headers: Record<string, string> = {
        'content-type': 'application/x-www-form-urlencoded',
        ...slackHeaders(SLACK_SECRET, body),
        ...(retryNum > 0
          ? { 'x-slack-retry-num': String(retryNum), 'x-slack-retry-reason': lastFailure }
          : {}),
      };
      const answer = await post(port, '/slack/events', body, headers, SLACK_TIMEOUT_MS);
      lastFailure = 'error' in answer && answer.error === 'TIMEOUT' ? 'http_timeout' : 'http_error';
      return answer;
    };
    const s: Sent = {
      i,
      voter: `slack:${TEAM}:${user}`,
      option,
      firstAt: now(),
      tries: 0,
      errors: 0,
      serverErrors: 0,
      gaveUp: false,
      replay: () => send(s.tries + 1),
      settled: Promise.resolve(),
    };
    s.settled = deliver(
      s,
      async (k) => {
        const at = Date.now();
        const answer = await send(k);
        if (!('status' in answer) || answer.status !== 200) return { port, answer };
        // Answered: now what the person reads. A commit that outlives a frozen database is told when it ends.
        const told = await toldAfter(stack.slack, user, at, CLICK_TOLD_WITHIN_MS);
        if (told === 'saved') return { port, answer };
        // Told it did not count (or told nothing): to the client, as good as a failed delivery.
        return { port, answer: { ...answer, status: told === 'refused' ? 299 : 298 } };
      },
      (status) => status !== 200,
    );
    return s;
  };
}

// ---- polls ---------------------------------------------------------------------------------------------------

async function webPoll(stack: Stack): Promise<string> {
  const base = stack.realtime[0]?.url as string;
  const r = await api<{ poll: { id: string } }>(base, '/api/polls', {
    method: 'POST',
    body: JSON.stringify({
      template: 'lunch',
      places: ['Kimbap', 'Bonjuk', 'Myeongdong'].map((name) => ({ name, menus: [{ name: `${name} set` }] })),
    }),
  });
  return r.poll.id;
}

interface SlackPoll {
  pollId: string;
  ts: string;
  /** The place options' ids (catalog ids), in the message's order. */
  places: string[];
}

/** A lunch poll made the Slack way (the /lunch modal submitted), posted and pinned in the channel by the bot. */
async function slackPoll(stack: Stack, title: string): Promise<SlackPoll> {
  const { slack } = stack;
  // The modal's place options carry catalog ids: the first three of the workspace's (starter) catalog.
  const { places } = await api<{ places: { id: string }[] }>(
    stack.realtime[0]?.url as string,
    `/api/catalog/places?workspace=slack:${TEAM}`,
  );
  const submission = {
    type: 'view_submission',
    team: { id: TEAM },
    user: { id: 'U1', team_id: TEAM },
    view: {
      id: `V-${title}`,
      callback_id: 'lunch-modal',
      private_metadata: JSON.stringify({ channel: CHANNEL }),
      state: {
        values: {
          title: { v: { type: 'plain_text_input', value: title } },
          places: {
            v: {
              type: 'multi_static_select',
              selected_options: places.slice(0, 3).map((p) => ({ value: p.id })),
            },
          },
        },
      },
    },
  };
  const body = new URLSearchParams({ payload: JSON.stringify(submission) }).toString();
  const res = await post(
    stack.bot.port,
    '/slack/events',
    body,
    { 'content-type': 'application/x-www-form-urlencoded', ...slackHeaders(SLACK_SECRET, body) },
    SLACK_TIMEOUT_MS,
  );
  if (!('status' in res) || res.status !== 200) throw new Error(`lunch modal: ${JSON.stringify(res)}`);
  for (let i = 0; i < 100; i++) {
    const posted = slack.of('chat.postMessage').find((c) => JSON.stringify(c.body.blocks).includes(title));
    const blocks = (posted?.body.blocks ?? []) as { block_id?: string; accessory?: { value?: string } }[];
    const buttons = blocks.filter((b) => b.block_id?.startsWith('opt-'));
    const pollId = /^([A-Za-z0-9_-]+)\|/.exec(buttons[0]?.accessory?.value ?? '')?.[1];
    const ts = posted?.answer.ts;
    // Tracked once the bot has brought its own message up to date for the first time.
    if (pollId && typeof ts === 'string' && slack.of('chat.update').some((c) => c.body.ts === ts))
      return { pollId, ts, places: buttons.map((b) => (b.block_id as string).slice('opt-'.length)) };
    await sleep(100);
  }
  const seen = slack.calls.slice(-5).map((c) => `${c.method} ${JSON.stringify(c.answer).slice(0, 200)}`);
  throw new Error(`the bot never posted the lunch poll (Slack's last calls: ${seen.join('; ') || 'none'})`);
}

/** Per place option, the count the message's last chat.update shows (`… N (pct%)` under the option). */
function slackCounts(slack: FakeSlack, ts: string): Map<string, number> | undefined {
  const last = slack
    .of('chat.update')
    .filter((c) => c.body.ts === ts)
    .at(-1);
  if (!last) return undefined;
  const counts = new Map<string, number>();
  for (const b of last.body.blocks as { block_id?: string; text?: { text?: string } }[]) {
    const id = /^opt-(.+)$/.exec(b.block_id ?? '')?.[1];
    const n = /` (\d+) \(\d+%\)/.exec(b.text?.text ?? '')?.[1];
    if (id && n !== undefined) counts.set(id, Number(n));
  }
  return counts;
}

// ---- scenarios -----------------------------------------------------------------------------------------------

interface Scenario {
  fault: string;
  how: string;
  channel: 'web' | 'slack';
  inject(stack: Stack): Promise<void>;
  heal(stack: Stack): Promise<void>;
  /** Only acknowledgements from this port count as recovery (the instance that was down); any port by default. */
  recoveredOn?(stack: Stack): number;
}

const SCENARIOS: Scenario[] = [
  {
    fault: 'Postgres stopped',
    how: '`pg_ctlcluster 15 <cluster> stop -m fast` (every backend terminated, connections refused), then `pg_ctlcluster … start`; recovery counts from the start command.',
    channel: 'web',
    inject: async (s) => {
      s.pgDown = true;
      await s.pg.stop();
    },
    heal: async (s) => {
      await s.pg.start();
      s.pgDown = false;
    },
  },
  {
    fault: 'Postgres frozen',
    how: 'SIGSTOP to the postmaster, then to every process it forked (connections stay open, nothing answers), then SIGCONT to all of them.',
    channel: 'web',
    inject: (s) => s.pg.freeze(),
    heal: async (s) => s.pg.thaw(),
  },
  {
    fault: 'Redis restarted',
    how: "SIGKILL to the private redis-server (pub/sub only, nothing persisted), then a new one on the same port. Votes do not pass through Redis, so they go on; what it carries is each instance's updates to the other's viewers, hence the convergence column.",
    channel: 'web',
    inject: async (s) => {
      s.redisDown = true;
      await s.redis.stop();
    },
    heal: async (s) => {
      await s.redis.start();
      s.redisDown = false;
    },
  },
  {
    fault: 'realtime instance killed',
    how: 'SIGKILL to the first realtime process, then the same command on the same port; recovery counts from the restart to the first vote that instance acknowledges (the other one keeps serving).',
    channel: 'web',
    inject: (s) => (s.realtime[0] as Slot).kill(),
    heal: (s) => (s.realtime[0] as Slot).start(),
    recoveredOn: (s) => (s.realtime[0] as Slot).port,
  },
  {
    fault: 'bot killed under Slack clicks',
    how: 'SIGKILL to the bot process during a burst of signed Slack button clicks, then the same command on the same port; a click whose delivery failed is redelivered with `X-Slack-Retry-Num`.',
    channel: 'slack',
    inject: (s) => s.bot.kill(),
    heal: (s) => s.bot.start(),
  },
  {
    fault: 'Postgres stopped under Slack clicks',
    how: 'as the first row, with the burst made of Slack clicks to the bot instead of web votes.',
    channel: 'slack',
    inject: async (s) => {
      s.pgDown = true;
      await s.pg.stop();
    },
    heal: async (s) => {
      await s.pg.start();
      s.pgDown = false;
    },
  },
];

interface Row {
  scenario: Scenario;
  load: string;
  sent: number;
  acked: number;
  inStore: number;
  lost: number;
  doubled: number;
  recover: string;
  converged: string;
  ok: boolean;
  hung?: string;
  details: string;
}

async function runScenario(stack: Stack, sc: Scenario, n: number, run: string): Promise<Row> {
  const base = () => stack.realtime.find((s) => s.alive())?.url ?? (stack.realtime[0] as Slot).url;
  const slackMsg = sc.channel === 'slack' ? await slackPoll(stack, `Faults ${run} ${n}`) : undefined;
  const pollId = slackMsg?.pollId ?? (await webPoll(stack));
  const wsUrls = stack.realtime.map((s) => `ws://127.0.0.1:${s.port}/ws/votes`);
  const viewers = stack.realtime.flatMap((_, home) =>
    Array.from(
      { length: VIEWERS_PER_INSTANCE },
      () => new Viewer([...wsUrls.slice(home), ...wsUrls.slice(0, home)], pollId),
    ),
  );
  await Promise.all(viewers.map((v) => v.start()));
  try {
    const rate = sc.channel === 'web' ? VOTE_RATE : CLICK_RATE;
    const count = Math.round((rate * BURST_MS) / 1000);
    const make =
      sc.channel === 'web' ? webVoter(stack, pollId, run, n) : slackClicker(stack, slackMsg as SlackPoll, n);
    const sent: Sent[] = [];
    const t0 = now() + 100;
    let faultAt = 0;
    let healAt = 0;
    let healedAt = 0;
    const timeline = (async () => {
      await sleep(Math.max(0, t0 + FAULT_AT_MS - now()));
      faultAt = now();
      await sc.inject(stack);
      await sleep(Math.max(0, t0 + HEAL_AT_MS - now()));
      healAt = now();
      await sc.heal(stack);
      healedAt = now();
    })();
    // Recovery: from the heal to the first acknowledgement after it (on the healed instance, where it matters).
    const onPort = sc.recoveredOn?.(stack);
    const firstAfterHeal = () =>
      Math.min(
        ...sent
          .filter(
            (s) =>
              healAt > 0 &&
              s.ackAt !== undefined &&
              s.ackAt >= healAt &&
              (onPort === undefined || s.ackPort === onPort),
          )
          .map((s) => s.ackAt as number),
      );
    const [total] = await Promise.all([
      openLoop(
        t0,
        count,
        rate,
        (i) => {
          const s = make(i);
          sent.push(s);
          return s.settled;
        },
        () => Number.isFinite(firstAfterHeal()),
      ),
      timeline,
    ]);

    // The store, as the admin sees it, once every client has settled.
    // Whatever a server still does after its answer (publishing; a chat edge answering before it commits) lands first.
    await sleep(1_000);
    const final = await readPoll(base(), pollId);
    const rows = await readBallots(base(), pollId);
    const byVoter = new Map<string, string[]>();
    for (const r of rows) byVoter.set(r.voter, [...(byVoter.get(r.voter) ?? []), r.option]);
    const acked = sent.filter((s) => s.ackAt !== undefined);
    const lost = acked.filter((s) => !byVoter.has(s.voter));
    const inStore = sent.filter((s) => byVoter.has(s.voter)).length;
    const wrong = sent.filter((s) => byVoter.has(s.voter) && !byVoter.get(s.voter)?.includes(s.option));
    const strangers = [...byVoter.keys()].filter((v) => !sent.some((s) => s.voter === v)).length;
    const place = final.questions.find((q) => q.question_id === 'place');
    const csvCount = (option: string) => rows.filter((r) => r.option === option).length;
    const countDiff =
      (place?.options ?? []).reduce((a, o) => a + Math.abs(o.vote_count - csvCount(o.option_id)), 0) +
      Math.abs((place?.voters ?? 0) - byVoter.size);
    const dupRows = rows.length - byVoter.size;
    const doubled = dupRows + countDiff;

    const firstAfter = firstAfterHeal();
    const recover = Number.isFinite(firstAfter) ? secs(firstAfter - healAt) : 'never';
    let gap = 0;
    const ackTimes = acked.map((s) => s.ackAt as number).sort((a, b) => a - b);
    for (let k = 1; k < ackTimes.length; k++)
      gap = Math.max(gap, (ackTimes[k] as number) - (ackTimes[k - 1] as number));

    // Clients: every viewer, and for Slack the message itself, on the final state.
    const convergeStart = now();
    let slackOk = sc.channel !== 'slack';
    const slackMatches = () => {
      const shown = slackCounts(stack.slack, slackMsg?.ts as string);
      return !!shown && (place?.options ?? []).every((o) => shown.get(o.option_id) === o.vote_count);
    };
    while (now() - convergeStart < CONVERGE_MS) {
      slackOk ||= slackMatches();
      if (slackOk && viewers.every((v) => v.version >= final.version)) break;
      await sleep(100);
    }
    const convergeMs = now() - convergeStart;
    const atFinal = viewers.filter((v) => v.version >= final.version).length;
    const converged =
      `${atFinal}/${viewers.length} viewers` +
      (sc.channel === 'slack' ? `, Slack message ${slackOk ? 'final' : 'NOT final'}` : '') +
      ` (${secs(convergeMs)})`;

    // Replay every vote exactly as sent: the store must not move.
    const replays = await mapLimit(sent, 16, (s) => s.replay());
    await sleep(1_000);
    const after = await readPoll(base(), pollId);
    const rowsAfter = await readBallots(base(), pollId);
    const replayBad = replays.filter((a) => !('status' in a) || a.status !== 200).length;
    const replayMoved = after.version !== final.version || rowsAfter.length !== rows.length;

    const sum = (f: (s: Sent) => number) => sent.reduce((a, s) => a + f(s), 0);
    const gaveUp = sent.filter((s) => s.gaveUp).length;
    const refused = sent.filter((s) => s.refused !== undefined);
    // A click the bot answered 200 while telling the person it did not count (":warning: …" in an ephemeral
    // message): Slack never sends it again, so if it was not stored it shows as lost. Counted by text.
    const warnings = new Map<string, number>();
    if (sc.channel === 'slack')
      for (const c of stack.slack.calls) {
        const text = c.body.text;
        if (c.method !== 'chat.postEphemeral' || c.at < t0 || typeof text !== 'string') continue;
        if (text.startsWith(':warning:')) warnings.set(text, (warnings.get(text) ?? 0) + 1);
      }
    const details = [
      `${sum((s) => s.tries - 1)} retries`,
      `${sum((s) => s.errors)} network errors or timeouts`,
      `${sum((s) => s.serverErrors)} ${sc.channel === 'web' ? '5xx' : 'non-200'} answers`,
      `${gaveUp} given up`,
      ...(refused.length
        ? [`${refused.length} refused (${[...new Set(refused.map((s) => s.refused))]})`]
        : []),
      ...(warnings.size
        ? [
            `answered 200 with a warning: ${[...warnings].map(([text, n]) => `${n} × "${text.replace(':warning: ', '')}"`).join(', ')}`,
          ]
        : []),
      `longest gap between acknowledgements ${secs(gap)}`,
      `viewer connections closed under them: ${viewers.reduce((a, v) => a + v.closes, 0)}`,
      `fault ${secs(faultAt - t0)} in, heal ${secs(healAt - t0)} in, healed after ${secs(healedAt - healAt)}`,
      `version ${final.version} for ${byVoter.size} ballots`,
      ...(wrong.length ? [`${wrong.length} stored with another option`] : []),
      ...(strangers ? [`${strangers} ballots of unknown voters`] : []),
      `stored but never acknowledged: ${sent.filter((s) => s.ackAt === undefined && byVoter.has(s.voter)).length}`,
      `replay: ${replayMoved ? `MOVED the store (version ${final.version} → ${after.version}, ballots ${rows.length} → ${rowsAfter.length})` : 'changed nothing'}${replayBad ? `, ${replayBad} replays not answered 200` : ''}`,
    ].join('; ');
    const ok =
      lost.length === 0 && doubled === 0 && wrong.length === 0 && !replayMoved && atFinal === viewers.length;
    return {
      scenario: sc,
      load:
        `${count} ${sc.channel === 'web' ? 'HTTP votes over 2 realtime' : 'Slack clicks to the bot'}: ${rate}/s × ${BURST_MS / 1000} s` +
        (total > count ? ` + ${total - count} at ${TRICKLE_RATE}/s until recovered` : ''),
      sent: total,
      acked: acked.length,
      inStore,
      lost: lost.length,
      doubled,
      recover,
      converged,
      ok: ok && slackOk,
      details,
    };
  } finally {
    for (const v of viewers) v.stop();
  }
}

async function mapLimit<T, R>(items: T[], limit: number, f: (t: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: limit }, async () => {
      while (next < items.length) {
        const k = next++;
        out[k] = await f(items[k] as T);
      }
    }),
  );
  return out;
}

function timeout<T>(p: Promise<T>, ms: number): Promise<T | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    p,
    new Promise<'timeout'>((r) => {
      timer = setTimeout(() => r('timeout'), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---- main ----------------------------------------------------------------------------------------------------

const cleanups: (() => Promise<unknown> | unknown)[] = [];
let cleaning: Promise<void> | undefined;
function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const f of cleanups.splice(0).reverse()) {
      try {
        await f();
      } catch (err) {
        console.error('cleanup:', err instanceof Error ? err.message : err);
      }
    }
  })();
  return cleaning;
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: removing the private Postgres cluster and Redis, stopping the instances`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function setUp(log: (s: string) => void): Promise<Stack> {
  if (!existsSync(`${ROOT}dist/server/main.js`))
    throw new Error('dist/server/main.js is missing: npm run build:server');
  // Kept after the run (test-results/ is not committed): the processes' logs are the first thing to read.
  const logDir = join(ROOT, 'test-results', 'faults');
  rmSync(logDir, { recursive: true, force: true });
  mkdirSync(logDir, { recursive: true });
  const cluster = await createPgCluster(log);
  cleanups.push(() => cluster.drop());
  log(`Postgres cluster 15/${cluster.name} on :${cluster.port}`);
  const admin = new pg.Client({ connectionString: cluster.url('postgres') });
  await admin.connect();
  await admin.query('create database livevote');
  await admin.end();
  const redis = await startPrivateRedis();
  cleanups.push(() => redis.stop());
  log(`redis-server on :${redis.port}`);
  const slack = new FakeSlack();
  await slack.start();
  cleanups.push(() => slack.stop());
  const env = (role: Role) => ({
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: 'production',
    NODE_OPTIONS: '--enable-source-maps',
    HOST: '127.0.0.1',
    ROLE: role,
    DATABASE_URL: cluster.url('livevote'),
    ANONYMITY_KEY: TEST_ANONYMITY_KEY,
    REDIS_URL: redis.url,
    ADMIN_TOKEN: ADMIN,
    // Rate limits for abuse are being added elsewhere; this load is one client machine, so keep them out of it.
    ABUSE_LIMITS: 'off',
    SEED_DEMO: 'false',
    WEB_APP: 'off',
    LOG_LEVEL: 'warn',
    ...(role === 'bot'
      ? { SLACK_SIGNING_SECRET: SLACK_SECRET, SLACK_BOT_TOKEN: 'xoxb-faults', SLACK_API_URL: slack.url }
      : {}),
  });
  const slot = async (label: string, role: Role) =>
    new Slot(label, await freePort(), env(role), join(logDir, `${label}.log`));
  const realtime = [await slot('realtime-1', 'realtime'), await slot('realtime-2', 'realtime')];
  const bot = await slot('bot', 'bot');
  cleanups.push(() =>
    Promise.all(
      [...children].map((c) => {
        c.kill('SIGKILL');
        return exited(c);
      }),
    ),
  );
  // The first one migrates the empty database; the others then start on a current schema.
  await (realtime[0] as Slot).start();
  await Promise.all([(realtime[1] as Slot).start(), bot.start()]);
  log(`realtime on :${realtime.map((s) => s.port).join(', :')}, bot on :${bot.port}; logs in ${logDir}`);
  return { pg: cluster, pgDown: false, redis, redisDown: false, slack, realtime, bot, logDir };
}

function table(rows: Row[]): string {
  const lines = rows.map(
    (r) =>
      `| ${r.load} | ${r.scenario.fault} | ${r.hung ? '—' : `${r.acked}/${r.sent}`} | ${r.hung ? '—' : r.inStore} | ${r.hung ? '?' : r.lost} | ${r.hung ? '?' : r.doubled} | ${r.hung ?? r.recover} | ${r.hung ? '—' : r.converged} |`,
  );
  return [
    '| load | fault | acknowledged | in store | lost | doubled | time to recover | clients converged |',
    '|---|---|---|---|---|---|---|---|',
    ...lines,
  ].join('\n');
}

async function main(): Promise<number> {
  const started = now();
  // Restart times are mostly CPU: on a busy shared machine they say as much about the neighbours as about us.
  const loadAtStart = loadavg()
    .map((x) => x.toFixed(1))
    .join(' / ');
  const only = process.argv[2];
  const scenarios = SCENARIOS.filter((s) => !only || s.fault.includes(only));
  if (scenarios.length === 0) throw new Error(`no fault matches "${only}"`);
  const log = (s: string) => console.log(`[${secs(now() - started).padStart(8)}] ${s}`);
  const stack = await setUp(log);
  const run = randomBytes(3).toString('hex');
  const rows: Row[] = [];
  for (const [k, sc] of scenarios.entries()) {
    const n = SCENARIOS.indexOf(sc) + 1;
    if (k > 0) await heal(stack);
    log(`scenario ${n}: ${sc.fault}`);
    const r = await timeout(
      runScenario(stack, sc, n, run).catch((err: unknown) => err as Error),
      SCENARIO_LIMIT_MS,
    );
    if (r === 'timeout' || r instanceof Error) {
      const why =
        r === 'timeout' ? `hung (no result within ${SCENARIO_LIMIT_MS / 1000} s)` : `failed: ${r.message}`;
      log(`scenario ${n}: ${why}`);
      rows.push({
        scenario: sc,
        load: '—',
        sent: 0,
        acked: 0,
        inStore: 0,
        lost: 0,
        doubled: 0,
        recover: '',
        converged: '',
        ok: false,
        hung: why.split('\n')[0] as string,
        details: why,
      });
      await heal(stack).catch((err: unknown) => log(`could not heal the stack: ${String(err)}`));
      continue;
    }
    rows.push(r);
    log(
      `scenario ${n}: ${r.acked}/${r.sent} acknowledged, ${r.inStore} in store, ${r.lost} lost, ${r.doubled} doubled, recovered in ${r.recover}, ${r.converged}`,
    );
    log(`  ${r.details}`);
  }
  const took = now() - started;
  console.log(`\n${table(rows)}\n\nThe suite took ${secs(took)}.`);
  const failed = rows.filter((r) => !r.ok);
  const broken = rows.some((r) => r.hung !== undefined);
  if (!only) {
    const notes = rows.map((r) => `- **${r.scenario.fault}**: ${r.scenario.how} ${r.details}.`).join('\n');
    writeSection(
      `faults — ${new Date().toISOString().slice(0, 10)}`,
      `Machine: ${machine(`a private PostgreSQL 15 cluster and redis-server on the same machine, load average ${loadAtStart} at the start (the machine is shared)`)}. Command: \`npm run bench:faults\` (${secs(took)} in all).
Two \`realtime\` processes and one \`bot\` run the compiled bundle (\`node dist/server/main.js start\`) on a Postgres
cluster and a redis-server of their own. Each fault gets a fresh lunch poll and an open-loop burst of
${BURST_MS / 1000} s from distinct voters; the fault starts ${FAULT_AT_MS / 1000} s in and is healed ${(HEAL_AT_MS - FAULT_AT_MS) / 1000} s later. A client retries a network error,
timeout (${HTTP_TIMEOUT_MS / 1000} s; Slack's 3 s for clicks) or 5xx with the same Idempotency-Key (a click, and a click the person was told did not
count: the same payload again, sent with \`X-Slack-Retry-Num\` as a person clicking again), backing off from 100 ms to 2 s, for up to ${GIVE_UP_MS / 1000} s; web votes and their retries go round-robin over
the realtime instances. ${VIEWERS_PER_INSTANCE} WebSocket viewers per realtime instance reconnect on close as the web client does.

${table(rows)}

- _acknowledged_: a 200 to the client (for a click: the bot's 200, then the ephemeral telling the person the vote
  was saved; the bot answers a click within 2.5 s even while its commit runs). _in store_: the voters the admin
  export lists. _lost_: acknowledged but not in the export. _doubled_: export rows beyond one per voter plus every
  difference between the poll's counts and the export, option by option. Then every vote is sent again with its key
  (every click redelivered) and the version and the export must not move.
- _time to recover_: from the heal (restart issued, SIGCONT sent) to the first acknowledgement after it.
- _clients converged_: viewers holding the final version (and, for Slack, the message's last \`chat.update\`
  showing the final counts), and how long after the store was read. A killed bot's message is brought up to date by
  the restarted process once the dead one's delivery lease on the poll lapses (15 s after its last renewal), hence
  the seconds in that row; its viewers, fed by the realtime processes, converge at once.
${notes}`,
    );
  }
  if (failed.length > 0)
    console.log(`\nNot clean: ${failed.map((r) => r.scenario.fault).join(', ')}. Logs: ${stack.logDir}`);
  return broken ? 2 : failed.length > 0 ? 1 : 0;
}

const overall = setTimeout(() => {
  console.error(`\nThe suite ran past ${SUITE_LIMIT_MS / 60_000} minutes: stopping it.`);
  void cleanup().finally(() => process.exit(2));
}, SUITE_LIMIT_MS);

let code = 1;
try {
  code = await main();
} catch (err) {
  if (!cleaning) console.error(err); // after a signal, whatever was starting fails as its processes go
  code = 2;
} finally {
  clearTimeout(overall);
  for (const a of agents.values()) a.destroy();
  await cleanup();
}
// Not process.exit() at once: it may cut off what is still on its way to a piped stdout.
process.exitCode = code;
setTimeout(() => process.exit(code), 2_000).unref();
