// The Slack app end to end, offline: a local fake of Slack's Web API and correctly signed requests.
import type { PollListResponse, Snapshot } from '@livevote/core/protocol';
import { TEST_REDIS_URL, testPrefix } from '@livevote/core/testing';
import type { Running } from '@livevote/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booted, boot } from '../boot.ts';
import { FakeSlack, slackHeaders } from './fake-slack.ts';
import { modalPlaceOptions } from './slack-polls.ts';
import { slackRequests } from './slack-requests.ts';

const SECRET = 'slack-signing-secret-for-tests';

describe('Slack app', () => {
  const slack = new FakeSlack();
  let app: Booted;
  let running: Running;
  let base: string;

  beforeAll(async () => {
    await slack.start();
    app = await boot({
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_API_URL: slack.url,
      AUTH_SECRET: 'a-voter-token-secret-of-32-characters!!',
    });
    ({ base, running } = app);
    ({ send, form, command, action, event } = slackRequests(base, SECRET, slack.url));
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await slack.stop();
  });

  let send: ReturnType<typeof slackRequests>['send'];
  let form: ReturnType<typeof slackRequests>['form'];
  let command: ReturnType<typeof slackRequests>['command'];
  let action: ReturnType<typeof slackRequests>['action'];
  let event: ReturnType<typeof slackRequests>['event'];
  const click = (pollId: string, optionId: string, user: string, ts: string, messageTs: string) => ({
    type: 'block_actions',
    team: { id: 'T1' },
    user: { id: user, team_id: 'T1' },
    channel: { id: 'C1' },
    container: { type: 'message', message_ts: messageTs, channel_id: 'C1' },
    trigger_id: 'trig',
    actions: [
      {
        type: 'button',
        action_id: `vote-${optionId}`,
        block_id: `opt-${optionId}`,
        value: `${pollId}|${optionId}`,
        action_ts: ts,
      },
    ],
  });
  /** The workspace's polls, as the admin sees them (the public list shows the web workspace only). */
  const workspacePolls = async (workspace = 'slack:T1') => {
    const res = await fetch(`${base}/api/polls?workspace=${workspace}`, {
      headers: { authorization: `Bearer ${running.adminToken}` },
    });
    return ((await res.json()) as PollListResponse).polls;
  };
  const snapshotOf = async (pollId: string) =>
    ((await (await fetch(`${base}/api/polls/${pollId}`)).json()) as { snapshot: Snapshot }).snapshot;

  /** A modal's submission by `user` of team T1, as Slack posts it. */
  const viewSubmission = (user: string, callbackId: string, privateMetadata: string, values: object) => ({
    type: 'view_submission',
    team: { id: 'T1' },
    user: { id: user, team_id: 'T1' },
    view: {
      id: `V-${callbackId}`,
      callback_id: callbackId,
      private_metadata: privateMetadata,
      state: { values },
    },
  });
  async function newPoll(question: string): Promise<{ pollId: string; ts: string }> {
    const res = await command('/vote', `"${question}" "Pizza" "Sushi" "Bibimbap"`);
    expect(res.status).toBe(200);
    await expect
      .poll(
        () =>
          slack.of('chat.postMessage').filter((c) => String(JSON.stringify(c.body.blocks)).includes(question))
            .length,
      )
      .toBe(1);
    const post = slack
      .of('chat.postMessage')
      .find((c) => String(JSON.stringify(c.body.blocks)).includes(question));
    const buttons = JSON.stringify(post?.body.blocks).match(/"value":"([a-z0-9]+)\|o1"/);
    const pollId = buttons?.[1] as string;
    const ts = slack.calls.filter((c) => c.method === 'chat.postMessage').indexOf(post as never);
    expect(pollId).toBeTruthy();
    const messageTs = `${1_700_000_000 + ts + 1}.000100`;
    return { pollId, ts: messageTs };
  }

  it('creates a poll with /vote: the message is posted with a button per option and pinned', async () => {
    const { pollId, ts } = await newPoll('Team lunch?');
    const post = slack.of('chat.postMessage').at(-1);
    expect(post?.body.channel).toBe('C1');
    const blocks = JSON.stringify(post?.body.blocks);
    for (const o of ['o1', 'o2', 'o3']) expect(blocks).toContain(`${pollId}|${o}`);
    expect(blocks).toContain('Open board');
    await expect.poll(() => slack.pinned('C1', ts)).toBe(true);
  });

  it('posts in a public channel it was never invited to, and tells the person why the poll is not pinned', async () => {
    slack.notMember.add('C8');
    const said = () => slack.of('resp').map((c) => String(c.body.text));
    // Its own team: its updates do not spend T1's chat.update budget, which the rate-limit test below counts on.
    expect((await command('/vote', '"Outside lunch?" "Pizza" "Sushi"', 'U1', 'T8', 'C8')).status).toBe(200);
    await expect.poll(said).toContainEqual(expect.stringContaining("can't pin it here"));
    const post = slack.of('chat.postMessage').find((c) => c.body.channel === 'C8');
    const ts = String(post?.answer.ts);
    expect(slack.calls.filter((c) => c.method === 'pins.add' && c.body.channel === 'C8')).toMatchObject([
      { answer: { ok: false, error: 'not_in_channel' } },
    ]);
    expect(slack.pinned('C8', ts)).toBe(false);
    // The poll itself is up and tracked: a vote updates its message.
    const pollId = /"value":"([a-z0-9]+)\|o1"/.exec(JSON.stringify(post?.body.blocks))?.[1] as string;
    expect(pollId).toBeTruthy();
    const before = slack.of('chat.update').filter((c) => c.body.ts === ts).length;
    await action({
      ...click(pollId, 'o1', 'U77', '17002.1', ts),
      team: { id: 'T8' },
      user: { id: 'U77', team_id: 'T8' },
      channel: { id: 'C8' },
      container: { type: 'message', message_ts: ts, channel_id: 'C8' },
      // As Slack sends a message's interactions: an answer through it reaches the clicker where the bot is no member.
      response_url: `${slack.url}resp`,
    });
    await expect
      .poll(() => slack.of('chat.update').filter((c) => c.body.ts === ts).length)
      .toBeGreaterThan(before);
    await expect.poll(said).toContainEqual(expect.stringContaining(':white_check_mark: Your vote: *Pizza*'));
    expect(slack.of('chat.postEphemeral').filter((c) => c.body.channel === 'C8')).toEqual([]);
  });

  it('refuses a malformed /vote with an ephemeral usage message and creates nothing', async () => {
    const before = (await workspacePolls()).length;
    const res = await command('/vote', 'Lunch? Pizza Sushi');
    expect(await res.json()).toMatchObject({
      response_type: 'ephemeral',
      text: expect.stringContaining('Usage'),
    });
    expect((await workspacePolls()).length).toBe(before);
  });

  it('refuses control characters and bidi overrides in a /vote, naming the part, and creates nothing', async () => {
    const before = (await workspacePolls()).length;
    // Answered through the command's response_url (it reaches the person even where the bot cannot post).
    const said = () => slack.of('resp').map((c) => String(c.body.text));
    expect((await command('/vote', '"Lunch?" "Pizza\u202e" "Sushi"', 'U31')).status).toBe(200);
    await expect
      .poll(said)
      .toContainEqual(expect.stringMatching(/^:warning: Option 1 must not contain control characters/));
    expect((await command('/vote', '"Lunch\nor dinner?" "Pizza" "Sushi"', 'U31')).status).toBe(200);
    await expect
      .poll(said)
      .toContainEqual(expect.stringMatching(/^:warning: The question must not contain control characters/));
    expect((await workspacePolls()).length).toBe(before);
  });

  it('counts 30 users clicking, confirms each at once, keeps the shared message ≤ 1 update/s and ends on the final count', async () => {
    const { pollId, ts } = await newPoll('Thirty clicks?');
    const responses = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        action(click(pollId, i % 2 ? 'o2' : 'o1', `U${100 + i}`, `17000.${i}`, ts)),
      ),
    );
    expect(responses.every((r) => r.status === 200)).toBe(true);
    await expect.poll(async () => (await snapshotOf(pollId)).total_voters).toBe(30);
    await expect
      .poll(
        () => slack.of('chat.postEphemeral').filter((c) => String(c.body.text).includes('Your vote')).length,
      )
      .toBeGreaterThanOrEqual(30);
    // The final state lands on the shared message.
    const final = await snapshotOf(pollId);
    await expect
      .poll(
        () => {
          const last = slack
            .of('chat.update')
            .filter((c) => c.body.ts === ts)
            .at(-1);
          return JSON.stringify(last?.body.blocks ?? '').includes('` 15 (50%)');
        },
        { timeout: 15_000 },
      )
      .toBe(true);
    expect(final.questions[0]?.options.map((o) => o.vote_count)).toEqual([15, 15, 0]);
    // Measured rate: consecutive chat.update calls for one message are at least a second apart.
    const times = slack.calls.filter((c) => c.method === 'chat.update' && c.body.ts === ts).map((c) => c.at);
    const gaps = times.slice(1).map((t, i) => t - (times[i] as number));
    expect(gaps.every((g) => g >= 990)).toBe(true);
    // chat.update always carries the blocks.
    expect(
      slack.calls.filter((c) => c.method === 'chat.update').every((c) => Array.isArray(c.body.blocks)),
    ).toBe(true);
  }, 60_000);

  it('counts a redelivered click (X-Slack-Retry-Num) once', async () => {
    const { pollId, ts } = await newPoll('Retry once?');
    const payload = click(pollId, 'o3', 'U900', '17001.1', ts);
    const now = Math.floor(Date.now() / 1000);
    expect((await action(payload, {}, now)).status).toBe(200);
    // Slack signs a retry anew, with a later timestamp: the replay guard lets it through, the idempotency key
    // (message and action_ts) makes it count once.
    const retry = { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' };
    expect((await action(payload, retry, now + 2)).status).toBe(200);
    await new Promise((r) => setTimeout(r, 300));
    const s = await snapshotOf(pollId);
    expect(s.total_voters).toBe(1);
    expect(s.version).toBe(1);
    // A second click by the same user on the same option is a real click but changes nothing.
    await action(click(pollId, 'o3', 'U900', '17001.2', ts));
    await new Promise((r) => setTimeout(r, 300));
    expect((await snapshotOf(pollId)).version).toBe(1);
  });

  it('acts once on a signed request seen three times (a replay): one poll, and the repeats get an empty 200', async () => {
    const before = (await workspacePolls()).length;
    const body = form({
      command: '/vote',
      text: '"Replayed?" "Yes" "No"',
      team_id: 'T1',
      user_id: 'U42',
      channel_id: 'C1',
      trigger_id: 'trig-T1',
      response_url: `${slack.url}resp`,
    });
    const headers = slackHeaders(SECRET, body); // one signature, one timestamp: the very same request
    const answers = [];
    for (let i = 0; i < 3; i++) {
      const res = await send(body, 'application/x-www-form-urlencoded', headers);
      answers.push({ status: res.status, body: await res.text() });
    }
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect(answers.slice(1).map((a) => a.body)).toEqual(['', '']);
    await expect.poll(async () => (await workspacePolls()).length).toBe(before + 1);
    await new Promise((r) => setTimeout(r, 300));
    expect((await workspacePolls()).length).toBe(before + 1);
    const posted = slack
      .of('chat.postMessage')
      .filter((c) => JSON.stringify(c.body.blocks).includes('Replayed?'));
    expect(posted).toHaveLength(1);

    // A replayed click is dropped before Bolt (its idempotency key would have caught it too); a forged copy of a
    // seen request is still refused by Bolt.
    const { pollId, ts } = await newPoll('Replayed click?');
    const clickBody = form({ payload: JSON.stringify(click(pollId, 'o2', 'U43', '17003.1', ts)) });
    const clickHeaders = slackHeaders(SECRET, clickBody);
    for (let i = 0; i < 3; i++)
      expect((await send(clickBody, 'application/x-www-form-urlencoded', clickHeaders)).status).toBe(200);
    await expect.poll(async () => (await snapshotOf(pollId)).total_voters).toBe(1);
    expect(slack.of('chat.postEphemeral').filter((c) => c.body.user === 'U43')).toHaveLength(1);
    // Let the shared message settle, so no update of ours is still due when the next test rate-limits Slack.
    await expect
      .poll(() =>
        JSON.stringify(
          slack
            .of('chat.update')
            .filter((c) => c.body.ts === ts)
            .at(-1)?.body.blocks,
        ).includes('` 1 (100%)'),
      )
      .toBe(true);
    const forged = { ...clickHeaders, 'x-slack-signature': `v0=${'0'.repeat(64)}` };
    expect((await send(clickBody, 'application/x-www-form-urlencoded', forged)).status).toBe(401);
  });

  it('answers forged and stale signatures with 401 and changes nothing', async () => {
    const { pollId, ts } = await newPoll('Forgery?');
    const body = form({ payload: JSON.stringify(click(pollId, 'o1', 'U666', '17002.1', ts)) });
    const forged = await send(
      body,
      'application/x-www-form-urlencoded',
      slackHeaders('not-the-secret', body),
    );
    expect(forged.status).toBe(401);
    const stale = await send(
      body,
      'application/x-www-form-urlencoded',
      slackHeaders(SECRET, body, Math.floor(Date.now() / 1000) - 600),
    );
    expect(stale.status).toBe(401);
    const unsigned = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(unsigned.status).toBe(401);
    for (const res of [forged, unsigned]) {
      expect(res.headers.get('x-powered-by')).toBeNull();
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    }
    await new Promise((r) => setTimeout(r, 300));
    expect((await snapshotOf(pollId)).version).toBe(0);
  });

  it('honours 429 Retry-After: updates wait, and the final state still lands', async () => {
    const { pollId, ts } = await newPoll('Rate limited?');
    // The workspace's chat.update budget (10 per 15 s) is shared with the tests before: waits of up to 15 s are fair.
    await expect
      .poll(() => slack.of('chat.update').some((c) => c.body.ts === ts), { timeout: 20_000 })
      .toBe(true); // the first sync
    slack.rateLimit = { next: 1, retryAfter: 2 };
    await action(click(pollId, 'o1', 'U300', '17003.1', ts));
    await expect
      .poll(() => slack.of('chat.update', 429).some((c) => c.body.ts === ts), { timeout: 20_000 })
      .toBe(true);
    const limitedAt = slack.of('chat.update', 429).find((c) => c.body.ts === ts)?.at as number;
    await action(click(pollId, 'o2', 'U301', '17003.2', ts));
    await action(click(pollId, 'o2', 'U302', '17003.3', ts));
    await expect
      .poll(
        () =>
          JSON.stringify(
            slack
              .of('chat.update')
              .filter((c) => c.body.ts === ts)
              .at(-1)?.body.blocks,
          ).includes('` 2 (67%)'),
        { timeout: 40_000 },
      )
      .toBe(true);
    const next = slack.of('chat.update').find((c) => c.body.ts === ts && c.at > limitedAt);
    expect((next?.at ?? 0) - limitedAt).toBeGreaterThanOrEqual(1_990);
  }, 90_000);

  it('lets only the creator close; the winner is announced in the thread and the message shows it', async () => {
    const { pollId, ts } = await newPoll('Who closes?');
    await action(click(pollId, 'o2', 'U7', '17004.1', ts));
    const closeBy = (user: string) => ({
      type: 'block_actions',
      team: { id: 'T1' },
      user: { id: user, team_id: 'T1' },
      channel: { id: 'C1' },
      container: { type: 'message', message_ts: ts, channel_id: 'C1' },
      actions: [{ type: 'button', action_id: 'close-poll', value: pollId, action_ts: `c-${user}` }],
    });
    await action(closeBy('U2'));
    await expect
      .poll(() =>
        slack
          .of('chat.postEphemeral')
          .some((c) => c.body.user === 'U2' && String(c.body.text).includes('Only')),
      )
      .toBe(true);
    expect((await snapshotOf(pollId)).status).toBe('open');
    await action(closeBy('U1')); // U1 ran /vote
    await expect.poll(async () => (await snapshotOf(pollId)).status).toBe('closed');
    await expect
      .poll(() =>
        slack
          .of('chat.postMessage')
          .filter((c) => c.body.thread_ts === ts)
          .map((c) => String(c.body.text)),
      )
      .toEqual([expect.stringContaining('Sushi')]);
    await expect
      .poll(() =>
        JSON.stringify(
          slack
            .of('chat.update')
            .filter((c) => c.body.ts === ts)
            .at(-1)?.body.blocks,
        ).includes(':trophy:'),
      )
      .toBe(true);
  });

  it('lets only workspace admins change the lunch places, checking again when the form is submitted', async () => {
    const opened = () =>
      slack.of('views.open').filter((c) => JSON.stringify(c.body.view).includes('lunch-places-modal'));
    const said = () => slack.of('resp').map((c) => String(c.body.text));
    const before = opened().length;
    expect((await command('/lunch', 'places', 'U40')).status).toBe(200);
    // A member reads the places as text, with who may change them.
    await expect.poll(said).toContainEqual(expect.stringContaining('Only workspace admins can change'));
    expect(said().find((t) => t.includes('Only workspace admins'))).toMatch(/^\*Lunch places\*\n• \*/);
    expect(opened()).toHaveLength(before);
    slack.admins.add('U41');
    await command('/lunch', 'places', 'U41');
    await expect.poll(() => opened().length).toBe(before + 1);
    const catalog = async () =>
      (
        (await (
          await fetch(`${base}/api/catalog/places?workspace=slack:T1&include_inactive=true`, {
            headers: { authorization: `Bearer ${running.adminToken}` },
          })
        ).json()) as { places: { name: string }[] }
      ).places.map((p) => p.name);
    const submit = (user: string) =>
      action(
        viewSubmission(user, 'lunch-places-modal', '', {
          name: { v: { type: 'plain_text_input', value: `Gimbap ${user}` } },
        }),
      );
    // A member who kept an admin's form (or forged one) is refused on submit and nothing changes.
    const refused = await submit('U40');
    expect(await refused.json()).toMatchObject({
      response_action: 'errors',
      errors: { name: expect.stringContaining('Only workspace admins') },
    });
    expect(await catalog()).not.toContain('Gimbap U40');
    expect((await submit('U41')).status).toBe(200);
    await expect.poll(catalog).toContain('Gimbap U41');
  });

  it('sets a channel’s lunch schedule through the /lunch schedule set form, for admins only', async () => {
    const said = () => slack.of('resp').map((c) => String(c.body.text));
    const forms = () =>
      slack
        .of('views.open')
        .map((c) => c.body.view as { callback_id?: string; private_metadata?: string; blocks?: unknown[] })
        .filter((v) => v.callback_id === 'lunch-schedule-modal');
    const schedules = async () =>
      (
        (await (
          await fetch(`${base}/api/schedules?workspace=slack:T1`, {
            headers: { authorization: `Bearer ${running.adminToken}` },
          })
        ).json()) as {
          schedules: { destination: { channel?: string }; weekdays: number[]; timezone: string }[];
        }
      ).schedules.filter((x) => x.destination.channel === 'C7');
    await command('/lunch', 'schedule set', 'U50', 'T1', 'C7');
    await expect.poll(said).toContainEqual(expect.stringContaining('Only workspace admins can change'));
    expect(forms()).toHaveLength(0);
    slack.admins.add('U51');
    await command('/lunch', 'schedule set', 'U51', 'T1', 'C7');
    await expect.poll(() => forms().length).toBe(1);
    const form = forms()[0];
    // The zone defaults to the person's own Slack time zone (users.info).
    expect(JSON.stringify(form?.blocks)).toContain('Asia/Seoul');
    // A day other than today, so the schedule posts nothing while the other tests run.
    const today = new Intl.DateTimeFormat('en-US', { timeZone: 'Asia/Seoul', weekday: 'short' }).format(
      new Date(),
    );
    const day = ((['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'].indexOf(today) + 2) % 7) + 1;
    const submit = (user: string) =>
      action(
        viewSubmission(user, 'lunch-schedule-modal', form?.private_metadata ?? '', {
          weekdays: { v: { type: 'checkboxes', selected_options: [{ value: String(day) }] } },
          open_at: { v: { type: 'timepicker', selected_time: '11:30' } },
          close_at: { v: { type: 'timepicker', selected_time: '12:15' } },
          timezone: { v: { type: 'plain_text_input', value: 'Asia/Seoul' } },
          rule: { v: { type: 'static_select', selected_option: { value: 'all' } } },
        }),
      );
    const refused = await submit('U50');
    expect(await refused.json()).toMatchObject({ response_action: 'errors' });
    expect(await schedules()).toHaveLength(0);
    expect((await submit('U51')).status).toBe(200);
    await expect.poll(said).toContainEqual(expect.stringMatching(/^:white_check_mark: .*11:30/));
    expect(await schedules()).toMatchObject([{ weekdays: [day], timezone: 'Asia/Seoul' }]);
    // Anyone may read it.
    await command('/lunch', 'schedule', 'U50', 'T1', 'C7');
    await expect.poll(() => said().filter((t) => t.includes('11:30')).length).toBe(2);
  });

  it('opens the /lunch modal and posts the lunch poll it submits', async () => {
    await command('/lunch', '');
    const lunchModals = () =>
      slack
        .of('views.open')
        .filter((c) => (c.body.view as { callback_id?: string }).callback_id === 'lunch-modal');
    await expect.poll(() => lunchModals().length).toBeGreaterThan(0);
    const view = lunchModals().at(-1)?.body.view as {
      callback_id: string;
      private_metadata: string;
    };
    expect(view.callback_id).toBe('lunch-modal');
    const submission = {
      type: 'view_submission',
      team: { id: 'T1' },
      user: { id: 'U1', team_id: 'T1' },
      view: {
        id: 'V1',
        callback_id: 'lunch-modal',
        private_metadata: view.private_metadata,
        state: {
          values: {
            title: { v: { type: 'plain_text_input', value: 'Friday lunch' } },
            places: {
              v: {
                type: 'multi_static_select',
                selected_options: modalPlaceOptions(view).slice(0, 3),
              },
            },
            closes: {
              v: { type: 'datetimepicker', selected_date_time: Math.floor(Date.now() / 1000) + 3600 },
            },
            settings: { v: { type: 'checkboxes', selected_options: [{ value: 'anonymous' }] } },
          },
        },
      },
    };
    expect((await action(submission)).status).toBe(200);
    await expect
      .poll(() =>
        slack
          .of('chat.postMessage')
          .some((c) => String(JSON.stringify(c.body.blocks)).includes('Friday lunch')),
      )
      .toBe(true);
    const lunch = (await workspacePolls()).find((p) => p.title === 'Friday lunch');
    expect(lunch?.template).toBe('lunch');
    expect(lunch?.closes_at).not.toBeNull();
  });

  it('refuses a /lunch submission with fewer than two places, with an inline error', async () => {
    const res = await action({
      type: 'view_submission',
      team: { id: 'T1' },
      user: { id: 'U1', team_id: 'T1' },
      view: {
        id: 'V2',
        callback_id: 'lunch-modal',
        private_metadata: '{"channel":"C1"}',
        state: {
          values: {
            places: {
              v: {
                selected_options: modalPlaceOptions(slack.of('views.open').at(-1)?.body.view).slice(0, 1),
              },
            },
          },
        },
      },
    });
    expect(await res.json()).toMatchObject({
      response_action: 'errors',
      errors: { places: expect.any(String) },
    });
  });

  it('lists open polls in App Home', async () => {
    const res = await event('T1', { type: 'app_home_opened', user: 'U1', channel: 'D1', tab: 'home' });
    expect(res.status).toBe(200);
    await expect.poll(() => slack.of('views.publish').length).toBeGreaterThan(0);
    expect(JSON.stringify(slack.of('views.publish').at(-1)?.body.view)).toContain('Open polls');
  });

  it('answers /lunch with what to do, instead of a modal Slack refuses, when fewer than two places are active', async () => {
    const admin = { authorization: `Bearer ${running.adminToken}`, 'content-type': 'application/json' };
    const listed = async () =>
      (
        (await (
          await fetch(`${base}/api/catalog/places?workspace=slack:T9&include_inactive=true`, {
            headers: admin,
          })
        ).json()) as { places: { id: string; active: boolean }[] }
      ).places;
    const places = await listed(); // the starter catalog a new workspace gets
    expect(places.length).toBeGreaterThan(2);
    for (const p of places.slice(1))
      expect(
        (await fetch(`${base}/api/catalog/places/${p.id}`, { method: 'DELETE', headers: admin })).status,
      ).toBe(200);
    const modals = () =>
      slack.of('views.open').filter((c) => {
        const meta = (c.body.view as { private_metadata?: string }).private_metadata;
        return (JSON.parse(meta ?? '{}') as { channel?: string }).channel === 'C9';
      });
    const said = () => slack.of('resp').map((c) => String(c.body.text));
    await command('/lunch', '', 'U1', 'T9', 'C9');
    await expect.poll(said).toContainEqual(expect.stringContaining('needs two active places'));
    expect(said().find((t) => t.includes('needs two active places'))).toContain('has one');
    expect(modals()).toEqual([]);
    expect(slack.of('views.open', 200).filter((c) => c.answer.ok === false)).toEqual([]);
    // Re-activated, the modal opens again.
    const second = places[1];
    await fetch(`${base}/api/catalog/places/${second?.id}`, {
      method: 'PATCH',
      headers: admin,
      body: JSON.stringify({ active: true }),
    });
    await command('/lunch', '', 'U1', 'T9', 'C9');
    await expect.poll(() => modals().length).toBe(1);
    expect(modals()[0]?.answer.ok).toBe(true);
  });
});

describe('Slack replay guard across instances sharing Redis', () => {
  const slack = new FakeSlack();
  let a: Booted;
  let b: Booted;
  beforeAll(async () => {
    await slack.start();
    const env = {
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_API_URL: slack.url,
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: testPrefix(),
    };
    [a, b] = await Promise.all([boot(env), boot(env)]);
  }, 120_000);
  afterAll(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
    await slack.stop();
  });

  it('refuses on one instance a signed request the other already took', async () => {
    // Each instance has its own embedded database here: without the shared guard, each would make a poll.
    const body = new URLSearchParams({
      command: '/vote',
      text: '"Shared?" "Yes" "No"',
      team_id: 'T1',
      user_id: 'U1',
      channel_id: 'C1',
      trigger_id: 'trig-T1',
      response_url: `${slack.url}resp`,
    }).toString();
    const headers = slackHeaders(SECRET, body);
    for (const app of [a, b, a, b]) {
      const res = await slackRequests(app.base, SECRET, slack.url).send(
        body,
        'application/x-www-form-urlencoded',
        headers,
      );
      expect(res.status).toBe(200);
    }
    const posted = () =>
      slack.of('chat.postMessage').filter((c) => JSON.stringify(c.body.blocks).includes('Shared?')).length;
    await expect.poll(posted).toBe(1);
    await new Promise((r) => setTimeout(r, 500));
    expect(posted()).toBe(1);
  });
});
