// The Teams app end to end, offline: activities posted to /api/messages with a serviceUrl that points at a local
// fake connector which, like Teams, ends its serviceUrl with a slash, records the bot's sends and card updates, and
// answers with Teams' failures on demand.
import type { PollListResponse, PollResponse, Snapshot } from '@livevote/core/protocol';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booted, boot } from '../boot.ts';
import { FakeConnector } from './fake-connector.ts';

// biome-ignore lint/suspicious/noExplicitAny: cards are wide JSON; each test reads the few fields it checks
type Card = any;

/** Every element of a card, depth first. */
function walk(card: Card): Card[] {
  const out: Card[] = [];
  const visit = (x: unknown) => {
    if (Array.isArray(x)) for (const y of x) visit(y);
    else if (x && typeof x === 'object') {
      out.push(x);
      for (const v of Object.values(x)) visit(v);
    }
  };
  visit(card);
  return out;
}
const executes = (card: Card, verb: string) =>
  walk(card).filter((e) => e.type === 'Action.Execute' && e.verb === verb);

describe('Teams app (local development: TEAMS_ALLOW_UNAUTHENTICATED=true, no TEAMS_CLIENT_ID)', () => {
  const connector = new FakeConnector();
  let app: Booted;
  let n = 0;
  beforeAll(async () => {
    await connector.start();
    app = await boot({ TEAMS_ALLOW_UNAUTHENTICATED: 'true' });
  }, 120_000);
  afterAll(async () => {
    await app?.stop();
    await connector.stop();
  });

  const activity = (extra: Record<string, unknown>, user = 'u1', conversation = 'conv1') => ({
    id: `activity-${++n}`,
    channelId: 'msteams',
    serviceUrl: connector.url,
    from: { id: `29:${user}`, aadObjectId: `aad-${user}`, name: user },
    recipient: { id: '28:bot', name: 'livevote' },
    conversation: { id: conversation, tenantId: 'tenant-1', conversationType: 'channel' },
    channelData: { tenant: { id: 'tenant-1' }, team: { id: '19:team@thread.tacv2' } },
    timestamp: new Date().toISOString(),
    ...extra,
  });
  const post = (body: unknown, headers: Record<string, string> = {}) =>
    fetch(`${app.base}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    });
  const invoke = (user: string, verb: string, data: Record<string, string>, id?: string) =>
    post({
      ...activity(
        {
          type: 'invoke',
          name: 'adaptiveCard/action',
          value: { action: { type: 'Action.Execute', verb, data: { verb, ...data } } },
        },
        user,
      ),
      ...(id ? { id } : {}),
    });
  const vote = (pollId: string, option: string, user: string, id?: string) =>
    invoke(user, 'vote', { poll_id: pollId, question_id: 'q1', option_id: option }, id);
  const invokeCard = async (res: Response) => {
    expect(res.status).toBe(200);
    const reply = (await res.json()) as { type: string; value: Card };
    expect(reply.type).toBe('application/vnd.microsoft.card.adaptive');
    return reply.value;
  };
  const pollOf = async (pollId: string) =>
    (await (await fetch(`${app.base}/api/polls/${pollId}`)).json()) as PollResponse;
  const snapshotOf = async (pollId: string): Promise<Snapshot> => (await pollOf(pollId)).snapshot;

  async function newPoll(text: string, user = 'u1', extra: Record<string, unknown> = {}) {
    const before = connector.posts().length;
    const res = await post(activity({ type: 'message', text: `<at>livevote</at> ${text}`, ...extra }, user));
    expect(res.status).toBe(200);
    const send = connector
      .posts()
      .slice(before)
      .find((c) => Array.isArray(c.body.attachments));
    expect(send?.path).toBe('/v3/conversations/conv1/activities');
    if (!send) throw new Error('the card was not sent');
    const attachment = (send.body.attachments as { contentType: string; content: Card }[])[0];
    const card = attachment?.content;
    return {
      attachment,
      card,
      pollId: executes(card, 'vote')[0]?.data.poll_id as string,
      activityId: send.answerId as string,
    };
  }

  // Started first, checked last: a close time has minute precision, so the other tests run while it comes.
  let timed: { pollId: string; activityId: string; closesAt: string } | undefined;
  it('reads "poll Q; A; B; closes HH:MM" on the sender wall clock', async () => {
    const now = Date.now();
    let boundary = Math.ceil(now / 60_000) * 60_000;
    if (boundary - now < 5_000) boundary += 60_000; // never let the server's clock pass it before the poll exists
    const seoul = new Date(boundary + 9 * 3_600_000); // Asia/Seoul: UTC+9, no daylight saving
    const hhmm = `${String(seoul.getUTCHours()).padStart(2, '0')}:${String(seoul.getUTCMinutes()).padStart(2, '0')}`;
    const { pollId, activityId, card } = await newPoll(`poll Timed?; Pizza; Sushi; closes ${hhmm}`, 'timer', {
      localTimezone: 'Asia/Seoul',
      localTimestamp: new Date().toISOString(),
    });
    const { poll } = await pollOf(pollId);
    expect(poll.closes_at).toBe(new Date(boundary).toISOString());
    expect(JSON.stringify(card)).toContain(
      `{{TIME(${new Date(boundary).toISOString().replace('.000Z', 'Z')})}}`,
    );
    timed = { pollId, activityId, closesAt: poll.closes_at as string };
    expect((await vote(pollId, 'o2', 'timed-voter')).status).toBe(200);
  });

  it('posts an Adaptive Card 1.5: Action.Execute votes with an Action.Submit fallback, take-back and close', async () => {
    const { attachment, card, pollId } = await newPoll('poll Where to?; Pizza; Sushi');
    expect(attachment?.contentType).toBe('application/vnd.microsoft.card.adaptive');
    expect(card.version).toBe('1.5');
    const votes = executes(card, 'vote');
    expect(votes.map((a) => a.title)).toEqual(['Pizza', 'Sushi']);
    expect(votes.every((a) => a.fallback?.type === 'Action.Submit')).toBe(true);
    expect(executes(card, 'retract')).toHaveLength(1);
    expect(executes(card, 'close')).toHaveLength(1);
    // The creator is the first user the card refreshes for (their view has the Close button).
    expect(card.refresh.userIds).toEqual(['29:u1']);
    expect(pollId).toMatch(/^[a-z0-9]+$/);
  });

  it('20 Action.Execute votes: each clicker sees their own vote; the shared card is updated on the normalised path, throttled, ending on 20', async () => {
    const { pollId, activityId } = await newPoll('poll Twenty voters?; Pizza; Sushi');
    const first = await invokeCard(await vote(pollId, 'o2', 'v0'));
    expect(JSON.stringify(first)).toContain('✅ Sushi');
    expect(JSON.stringify(first)).not.toContain('✅ Pizza');
    const rest = await Promise.all(
      Array.from({ length: 19 }, (_, i) => vote(pollId, i % 2 ? 'o2' : 'o1', `v${i + 1}`)),
    );
    expect(rest.every((r) => r.status === 200)).toBe(true);
    const s = await snapshotOf(pollId);
    expect(s.total_voters).toBe(20);
    expect(s.questions[0]?.options.map((o) => o.vote_count)).toEqual([10, 10]);
    await expect
      .poll(() => JSON.stringify(connector.puts(activityId).at(-1)?.body ?? '').includes('20 voters'), {
        timeout: 15_000,
      })
      .toBe(true);
    const puts = connector.calls.filter((c) => c.method === 'PUT' && c.path.endsWith(`/${activityId}`));
    expect(puts.every((c) => c.path === `/v3/conversations/conv1/activities/${activityId}`)).toBe(true);
    expect(puts.every((c) => !c.rawPath.includes('//'))).toBe(true);
    expect(connector.malformed()).toEqual([]);
    expect(puts.length).toBeLessThan(20); // coalesced
    const gaps = puts.slice(1).map((c, i) => c.at - (puts[i]?.at as number));
    expect(gaps.every((g) => g >= 990)).toBe(true);
    // The shared card refreshes by itself for the voters (Teams user ids), at most 60.
    const shared = (puts.at(-1)?.body.attachments as { content: Card }[] | undefined)?.[0]?.content;
    expect(shared.refresh.userIds).toHaveLength(21);
    expect(shared.refresh.userIds.slice(0, 20).every((id: string) => /^29:v\d+$/.test(id))).toBe(true);
  }, 30_000);

  it('counts a redelivered activity once', async () => {
    const { pollId } = await newPoll('poll Redelivered?; Pizza; Sushi');
    await vote(pollId, 'o1', 'r1', 'same-activity-id');
    await vote(pollId, 'o1', 'r1', 'same-activity-id');
    const s = await snapshotOf(pollId);
    expect([s.total_voters, s.version]).toEqual([1, 1]);
  });

  it('honours 429 Retry-After and retries 412 and 502, still ending on the final count', async () => {
    const { pollId, activityId } = await newPoll('poll Throttled?; Pizza; Sushi');
    await expect.poll(() => connector.puts(activityId).length).toBeGreaterThan(0);
    const at = `/activities/${activityId}`;
    connector.fail({ status: 429, times: 1, retryAfter: 2, method: 'PUT', pathEndsWith: at });
    connector.fail({ status: 412, times: 1, method: 'PUT', pathEndsWith: at });
    connector.fail({ status: 502, times: 1, method: 'PUT', pathEndsWith: at });
    for (let i = 0; i < 12; i++) await vote(pollId, 'o1', `t${i}`);
    await expect
      .poll(() => JSON.stringify(connector.puts(activityId).at(-1)?.body ?? '').includes('██████████ 12'), {
        timeout: 20_000,
      })
      .toBe(true);
    expect([412, 429, 502].map((s) => connector.puts(activityId, s).length)).toEqual([1, 1, 1]);
    const limitedAt = connector.puts(activityId, 429)[0]?.at as number;
    const after = connector.calls.find((c) => c.method === 'PUT' && c.path.endsWith(at) && c.at > limitedAt);
    expect((after?.at ?? 0) - limitedAt).toBeGreaterThanOrEqual(1_990); // Retry-After: 2 honoured
  }, 40_000);

  it.each([403, 404, 413] as const)(
    'stops updating a card after a permanent %i',
    async (status) => {
      const { pollId, activityId } = await newPoll(`poll Permanent ${status}?; Pizza; Sushi`);
      await expect.poll(() => connector.puts(activityId).length).toBeGreaterThan(0);
      connector.fail({ status, times: 1, method: 'PUT', pathEndsWith: `/activities/${activityId}` });
      await vote(pollId, 'o1', `gone${status}`);
      await expect.poll(() => connector.puts(activityId, status).length).toBe(1);
      await vote(pollId, 'o2', `gone${status}b`);
      await new Promise((r) => setTimeout(r, 2_500)); // past the interval and the retry delay
      const later = connector.calls.filter(
        (c) => c.method === 'PUT' && c.path.endsWith(`/activities/${activityId}`) && c.status !== status,
      );
      expect(later.filter((c) => c.at > (connector.puts(activityId, status)[0]?.at as number))).toEqual([]);
    },
    20_000,
  );

  it('lets the creator close from the card: closed card with the winner, and a reply in the thread; others are told no', async () => {
    const { pollId, activityId } = await newPoll('poll Close me?; Pizza; Sushi', 'creator');
    await vote(pollId, 'o2', 'closer-voter');
    const refused = await invokeCard(await invoke('someone-else', 'close', { poll_id: pollId }));
    expect(JSON.stringify(refused)).toContain('Only the person who created this poll');
    expect(executes(refused, 'close')).toEqual([]); // their own view has no Close button
    expect((await snapshotOf(pollId)).status).toBe('open');

    const closed = await invokeCard(await invoke('creator', 'close', { poll_id: pollId }));
    expect(JSON.stringify(closed)).toContain('🏁 Closed');
    expect(JSON.stringify(closed)).toContain('🏆 Sushi (1)');
    expect(executes(closed, 'vote')).toEqual([]);
    expect((await snapshotOf(pollId)).status).toBe('closed');
    // The shared card ends closed, and the winner is posted as a reply in the card's thread.
    await expect
      .poll(() => JSON.stringify(connector.puts(activityId).at(-1)?.body ?? '').includes('🏆 Sushi'))
      .toBe(true);
    await expect
      .poll(() =>
        connector
          .posts()
          .filter((c) => String(c.body.text).includes('Winner: **Sushi**'))
          .map((c) => c.path),
      )
      .toContainEqual(`/v3/conversations/conv1;messageid=${activityId}/activities`);
  });

  it('takes back my vote from the card', async () => {
    const { pollId } = await newPoll('poll Take back?; Pizza; Sushi');
    await vote(pollId, 'o1', 'undecided');
    expect((await snapshotOf(pollId)).total_voters).toBe(1);
    const card = await invokeCard(await invoke('undecided', 'retract', { poll_id: pollId }));
    expect(JSON.stringify(card)).not.toContain('✅');
    expect(executes(card, 'retract')).toEqual([]); // nothing left to take back
    expect((await snapshotOf(pollId)).total_voters).toBe(0);
    const again = await invokeCard(await invoke('undecided', 'retract', { poll_id: pollId }));
    expect(JSON.stringify(again)).toContain('You have not voted here.');
  });

  it('answers the Action.Submit fallback to the clicker alone (a targeted message), never to the channel', async () => {
    const { pollId } = await newPoll('poll Old client?; Pizza; Sushi');
    const publicBefore = connector.posts().length;
    const res = await post(
      activity(
        { type: 'message', value: { verb: 'vote', poll_id: pollId, question_id: 'q1', option_id: 'o1' } },
        'old1',
      ),
    );
    expect(res.status).toBe(200);
    expect((await snapshotOf(pollId)).total_voters).toBe(1);
    await expect
      .poll(() => connector.targeted().map((c) => [(c.body.recipient as { id: string }).id, c.body.text]))
      .toContainEqual(['29:old1', '✅ Your vote is in.']);
    const target = connector.targeted().at(-1);
    expect(target?.path).toBe('/v3/conversations/conv1/activities?isTargetedActivity=true');
    expect(
      connector
        .posts()
        .slice(publicBefore)
        .filter((c) => String(c.body.text ?? '').includes('vote')),
    ).toEqual([]);
    // A close from the fallback by someone else: refused, to them alone.
    await post(activity({ type: 'message', value: { verb: 'close', poll_id: pollId } }, 'old2'));
    await expect
      .poll(() => connector.targeted().map((c) => [(c.body.recipient as { id: string }).id, c.body.text]))
      .toContainEqual(['29:old2', expect.stringContaining('Only the person who created this poll')]);
    expect((await snapshotOf(pollId)).status).toBe('open');
  });

  it('refuses a channel schedule when it cannot ask Graph who the owners are, saying why, and changes nothing', async () => {
    const said = () => connector.posts().map((c) => String(c.body.text ?? ''));
    const schedules = async () =>
      (
        (await (
          await fetch(`${app.base}/api/schedules?workspace=teams:tenant-1`, {
            headers: { authorization: `Bearer ${app.running.adminToken}` },
          })
        ).json()) as { schedules: unknown[] }
      ).schedules;
    const before = (await schedules()).length;
    await post(
      activity(
        { type: 'message', text: '<at>livevote</at> lunch schedule 11:30-12:30 sat Asia/Seoul' },
        'u7',
      ),
    );
    await expect.poll(said).toContainEqual(expect.stringContaining('no client secret for Microsoft Graph'));
    expect(await schedules()).toHaveLength(before);
    // Reading it stays open to everyone.
    await post(activity({ type: 'message', text: '<at>livevote</at> lunch schedule' }, 'u7'));
    await expect.poll(said).toContainEqual(expect.stringContaining('no lunch schedule'));
  });

  it('gives a 5-place lunch poll one button per place', async () => {
    const { card, pollId } = await newPoll('lunch');
    const places = executes(card, 'vote').filter((a) => a.data.question_id === 'place');
    expect(places).toHaveLength(5);
    expect(places[0]?.title).toBe('김밥천국');
    const menus = walk(card).find((e) => e.type === 'Input.ChoiceSet' && e.id === 'choice_menu');
    expect(menus.choices[0].title).toBe('김밥천국 · 참치김밥');
    // Option ids are the catalog's place ids: the second button is the second place.
    expect(places[1]?.title).toBe('명동교자');
    const clicked = await invokeCard(
      await invoke('luncher', 'vote', {
        poll_id: pollId,
        question_id: 'place',
        option_id: places[1]?.data.option_id,
      }),
    );
    expect(JSON.stringify(clicked)).toContain('✅ 명동교자');
  });

  it('remembers conversations from installation events (normalised) and posts a poll there proactively', async () => {
    const install = await post({
      ...activity({ type: 'installationUpdate', action: 'add' }, 'installer', 'conv-installed'),
    });
    expect(install.status).toBe(200);
    const { pollId } = await newPoll('poll Proactive?; Pizza; Sushi');
    const teams = app.running.teams;
    if (!teams) throw new Error('Teams is on here');
    const r = await teams.postPoll('conv-installed', pollId);
    expect(r.ok).toBe(true);
    const sent = connector.posts().at(-1);
    expect(sent?.rawPath).toBe('/amer/v3/conversations/conv-installed/activities');
    if (!r.ok) return;
    // Tracked like any other card: a vote reaches it.
    await vote(pollId, 'o1', 'proactive-voter');
    await expect
      .poll(() => JSON.stringify(connector.puts(r.message.message_id).at(-1)?.body ?? '').includes('1 voter'))
      .toBe(true);

    await post({
      ...activity({ type: 'installationUpdate', action: 'remove' }, 'installer', 'conv-installed'),
    });
    expect(await teams.postPoll('conv-installed', pollId)).toEqual({
      ok: false,
      kind: 'permanent',
      reason: 'unknown_conversation',
    });
    // Added again: remembered again at once.
    await post({ ...activity({ type: 'installationUpdate', action: 'add' }, 'installer', 'conv-installed') });
    expect((await teams.postPoll('conv-installed', pollId)).ok).toBe(true);
  });

  it("answers with our security headers and without the Teams SDK's Express advertising itself", async () => {
    const res = await post(activity({ type: 'message', text: 'help' }));
    expect(res.status).toBe(200);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    // Teams may frame our pages (the board tab), nobody else.
    expect(res.headers.get('content-security-policy')).toContain(
      'frame-ancestors https://teams.microsoft.com',
    );
  });

  it('refuses a bidi override or a control character in "poll Q; A; B", naming the part', async () => {
    const polls = async () => {
      const all = await fetch(`${app.base}/api/polls?workspace=teams:tenant-1`, {
        headers: { authorization: `Bearer ${app.running.adminToken}` },
      });
      return ((await all.json()) as PollListResponse).polls.length;
    };
    const before = await polls();
    const sent = () => connector.posts().map((c) => String(c.body.text ?? ''));
    expect((await post(activity({ type: 'message', text: 'poll Lunch?; Pizza; Sushi\u2066' }))).status).toBe(
      200,
    );
    await expect
      .poll(sent)
      .toContainEqual(expect.stringMatching(/Option 2 must not contain control characters/));
    expect((await post(activity({ type: 'message', text: 'poll Lunch\u0000?; Pizza; Sushi' }))).status).toBe(
      200,
    );
    await expect.poll(sent).toContainEqual(expect.stringMatching(/The question must not contain control/));
    expect((await post(activity({ type: 'message', text: 'poll Lunch?; A; B; closes soon' }))).status).toBe(
      200,
    );
    await expect.poll(sent).toContainEqual(expect.stringMatching(/"soon" is not a time/));
    expect(await polls()).toBe(before);
  });

  it('serves the board tab: a configuration page in Teams, listing only this tenant polls', async () => {
    const page = await fetch(`${app.base}/teams/tab/config`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<script src="/teams/tab/config.js"');
    expect(page.headers.get('content-security-policy')).toContain('https://*.teams.microsoft.com');
    expect((await fetch(`${app.base}/teams/tab/teams-js.js`)).status).toBe(200);
    const list = async (tenant: string) =>
      (await (await fetch(`${app.base}/teams/tab/polls?tenant=${tenant}`)).json()) as PollListResponse;
    const mine = await list('tenant-1');
    expect(mine.polls.length).toBeGreaterThan(3);
    expect(mine.polls.every((p) => p.workspace === 'teams:tenant-1')).toBe(true);
    expect((await list('tenant-2')).polls).toEqual([]);
    const bad = await fetch(`${app.base}/teams/tab/polls`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('invalid_tenant');
  });

  it('closes a "closes HH:MM" poll by itself: the card ends closed and the winner is posted', async () => {
    if (!timed) throw new Error('the timed poll was not made');
    const { pollId, activityId } = timed;
    await expect
      .poll(async () => (await snapshotOf(pollId)).status, { timeout: 75_000, interval: 500 })
      .toBe('closed');
    await expect
      .poll(() => JSON.stringify(connector.puts(activityId).at(-1)?.body ?? '').includes('🏆 Sushi'), {
        timeout: 10_000,
      })
      .toBe(true);
    await expect
      .poll(
        () =>
          connector
            .posts()
            .some(
              (c) => c.path.includes(`messageid=${activityId}`) && String(c.body.text).includes('**Sushi**'),
            ),
        { timeout: 10_000 },
      )
      .toBe(true);
  }, 90_000);
});

describe('Teams app with TEAMS_CLIENT_ID set', () => {
  let app: Booted;
  beforeAll(async () => {
    app = await boot({
      TEAMS_CLIENT_ID: '00000000-0000-0000-0000-000000000001',
      TEAMS_CLIENT_SECRET: 'not-a-real-secret',
      // Ignored with a client id: tokens are validated all the same.
      TEAMS_ALLOW_UNAUTHENTICATED: 'true',
    });
  }, 120_000);
  afterAll(async () => app?.stop());

  it('refuses an unsigned or forged activity with 401 and changes nothing', async () => {
    const body = JSON.stringify({
      type: 'message',
      id: 'x',
      text: 'poll Q; A; B',
      serviceUrl: 'http://127.0.0.1:9/',
      channelId: 'msteams',
      from: { id: 'u' },
      conversation: { id: 'c', tenantId: 't' },
      recipient: { id: 'b' },
    });
    const unsigned = await fetch(`${app.base}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    expect(unsigned.status).toBe(401);
    const forged = await fetch(`${app.base}/api/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer not.a.jwt' },
      body,
    });
    expect(forged.status).toBe(401);
    const all = await fetch(`${app.base}/api/polls`, {
      headers: { authorization: `Bearer ${app.running.adminToken}` },
    });
    expect(((await all.json()) as PollListResponse).polls).toEqual([]);
  });

  it("lists a tenant's polls to the tab only with a valid Teams sign-on token", async () => {
    expect((await fetch(`${app.base}/teams/tab/polls?tenant=t`)).status).toBe(401);
    const forged = await fetch(`${app.base}/teams/tab/polls?tenant=t`, {
      headers: { authorization: 'Bearer a.b.c' },
    });
    expect(forged.status).toBe(401);
    expect(((await forged.json()) as { error: { code: string } }).error.code).toBe('unauthorized');
  });

  it('keeps validating tokens when the environment says DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS=true', async () => {
    // The Teams SDK reads this variable whenever the option is left undefined; our config must decide alone.
    const before = process.env.DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS;
    process.env.DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS = 'true';
    let other: Booted | undefined;
    try {
      other = await boot({
        TEAMS_CLIENT_ID: '00000000-0000-0000-0000-000000000002',
        TEAMS_CLIENT_SECRET: 'not-a-real-secret',
      });
    } finally {
      if (before === undefined) delete process.env.DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS;
      else process.env.DANGEROUSLY_ALLOW_UNAUTHENTICATED_REQUESTS = before;
    }
    try {
      const unsigned = await fetch(`${other.base}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message',
          id: 'y',
          text: 'poll Unsigned?; A; B',
          serviceUrl: 'http://127.0.0.1:9/',
          channelId: 'msteams',
          from: { id: 'u' },
          conversation: { id: 'c', tenantId: 't' },
          recipient: { id: 'b' },
        }),
      });
      expect(unsigned.status).toBe(401);
      const all = await fetch(`${other.base}/api/polls`, {
        headers: { authorization: `Bearer ${other.running.adminToken}` },
      });
      expect(((await all.json()) as PollListResponse).polls).toEqual([]);
    } finally {
      await other.stop();
    }
  }, 60_000);
});

describe('Teams with nothing set', () => {
  it('keeps the endpoint off (even in AUTH_MODE=open) and says how to turn it on', async () => {
    const connector = new FakeConnector();
    await connector.start();
    const app = await boot({ WEB_APP: 'off' });
    try {
      const res = await fetch(`${app.base}/api/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          type: 'message',
          id: 'z',
          text: 'poll Open door?; A; B',
          serviceUrl: connector.url,
          channelId: 'msteams',
          from: { id: '29:u' },
          conversation: { id: 'c', tenantId: 't' },
          recipient: { id: '28:b' },
        }),
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('teams_disabled');
      expect(connector.calls).toEqual([]); // the bot called nobody
      const all = await fetch(`${app.base}/api/polls`, {
        headers: { authorization: `Bearer ${app.running.adminToken}` },
      });
      expect(((await all.json()) as PollListResponse).polls).toEqual([]);
      expect((await fetch(`${app.base}/teams/tab/config`)).status).toBe(404);
    } finally {
      await app.stop();
      await connector.stop();
    }
  }, 60_000);

  it('warns at start when the endpoint accepts unauthenticated activities', async () => {
    const lines: string[] = [];
    const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(s) });
    const app = await boot({ TEAMS_ALLOW_UNAUTHENTICATED: 'true', WEB_APP: 'off' }, { log });
    await app.stop();
    expect(lines.some((l) => l.includes('UNAUTHENTICATED') && l.includes('"level":40'))).toBe(true);
  }, 60_000);
});
