// The Slack app against Slack's documented failures: HTTP 200 `ok: false` errors, private channels, escaping, the
// browser link, the /vote options, and the workspace budget shared by busy polls.
import { verifyVoterToken } from '@livevote/core';
import type { PollResponse } from '@livevote/core/protocol';
import type { Running } from '@livevote/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booted, boot } from '../boot.ts';
import { FakeSlack } from './fake-slack.ts';
import { clickPayload, postedPoll, updatesOf, voteClick } from './slack-polls.ts';
import { slackRequests } from './slack-requests.ts';

const SECRET = 'slack-signing-secret-for-delivery-tests';

describe('Slack delivery and commands', () => {
  const slack = new FakeSlack();
  let app: Booted;
  let running: Running;
  let base: string;
  let req: ReturnType<typeof slackRequests>;

  beforeAll(async () => {
    await slack.start();
    app = await boot({
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_API_URL: slack.url,
      AUTH_SECRET: 'a-voter-token-secret-of-32-characters!!',
      // 300 clicks in 25 s come from this one test address
      ABUSE_LIMITS: 'off',
    });
    ({ base, running } = app);
    req = slackRequests(base, SECRET, slack.url);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await slack.stop();
  });

  const pollJson = async (id: string) =>
    (await (await fetch(`${base}/api/polls/${id}`)).json()) as PollResponse;
  const workspacePolls = async () =>
    (
      (await (
        await fetch(`${base}/api/polls?workspace=slack:T1`, {
          headers: { authorization: `Bearer ${running.adminToken}` },
        })
      ).json()) as { polls: { id: string; title: string }[] }
    ).polls;
  async function newPoll(text: string, question: string, channel = 'C1', user = 'U1') {
    expect((await req.command('/vote', text, user, 'T1', channel)).status).toBe(200);
    await expect.poll(() => postedPoll(slack, question)).not.toBeNull();
    return postedPoll(slack, question) as NonNullable<ReturnType<typeof postedPoll>>;
  }
  const ephemeralsTo = (user: string) =>
    slack
      .of('chat.postEphemeral')
      .filter((c) => c.body.user === user)
      .map((c) => String(c.body.text));

  it('"Vote in browser" answers the clicker with a personal signed link', async () => {
    const p = await newPoll('"Browser?" "A" "B"', 'Browser?');
    const res = await req.action(
      clickPayload({
        actionId: 'vote-in-browser',
        value: p.pollId,
        user: 'U50',
        actionTs: 'b1',
        messageTs: p.ts,
      }),
    );
    expect(res.status).toBe(200);
    await expect
      .poll(() => ephemeralsTo('U50'))
      .toContainEqual(expect.stringMatching(new RegExp(`/p/${p.pollId}\\?token=[A-Za-z0-9._%-]+`)));
    // The link vouches for the person in the poll's workspace only.
    const token = decodeURIComponent(
      /\?token=([A-Za-z0-9._%-]+)/.exec(ephemeralsTo('U50').join(' '))?.[1] ?? '',
    );
    expect(verifyVoterToken('a-voter-token-secret-of-32-characters!!', token)).toMatchObject({
      ok: true,
      value: { platform: 'slack', tenant: 'T1', user: 'U50', workspace: 'slack:T1' },
    });
  });

  it('posts a new poll through a 429: the Slack SDK waits out Retry-After and retries (only updates do not)', async () => {
    slack.throttled.set('chat.postMessage', { next: 1, retryAfter: 1 });
    const p = await newPoll('"Throttled post?" "A" "B"', 'Throttled post?');
    expect(slack.of('chat.postMessage', 429)).toHaveLength(1);
    expect(p.pollId).toBeTruthy();
  });

  it('in a conversation the bot cannot post to, says how to fix it and keeps no poll', async () => {
    slack.fail('chat.postMessage', 'channel_not_found', { channel: 'Gprivate' });
    const before = (await workspacePolls()).length;
    expect((await req.command('/vote', '"Private?" "A" "B"', 'U1', 'T1', 'Gprivate')).status).toBe(200);
    await expect
      .poll(() => slack.of('resp').map((c) => String(c.body.text)))
      .toContainEqual(expect.stringContaining('/invite @livevote'));
    expect((await workspacePolls()).length).toBe(before);
  });

  it('stops at is_archived after one attempt, marks the message gone and tells the creator once', async () => {
    slack.fail('chat.update', 'is_archived', { channel: 'Carchived' });
    const p = await newPoll('"Archived?" "A" "B"', 'Archived?', 'Carchived', 'U77');
    await expect.poll(() => updatesOf(slack, p.ts).length).toBe(1);
    for (let i = 0; i < 3; i++)
      await req.action(voteClick(p.pollId, 'o1', `U6${i}`, `arch${i}`, p.ts, 'Carchived'));
    await expect
      .poll(() =>
        slack
          .of('chat.postMessage')
          .filter((c) => c.body.channel === 'U77')
          .map((c) => String(c.body.text)),
      )
      .toEqual([expect.stringContaining('the channel was archived')]);
    await new Promise((r) => setTimeout(r, 3_000));
    expect(updatesOf(slack, p.ts).length).toBeLessThanOrEqual(3);
    expect(updatesOf(slack, p.ts)).toHaveLength(1);
    const metrics = await (
      await fetch(`${base}/metrics`, { headers: { authorization: `Bearer ${running.adminToken}` } })
    ).text();
    expect(metrics).toMatch(/livevote_chat_dropped_total\{destination="slack:Carchived"\} 1/);
  });

  it('stops updating a poll message someone deleted (Slack: message_not_found) and tells the creator once', async () => {
    const p = await newPoll('"Deleted?" "A" "B"', 'Deleted?', 'Cdel', 'U78');
    await expect.poll(() => updatesOf(slack, p.ts).length).toBe(1); // the tally it shows once tracked
    slack.deleteMessage('Cdel', p.ts);
    for (let i = 0; i < 3; i++)
      await req.action(voteClick(p.pollId, 'o1', `U7${i}`, `del${i}`, p.ts, 'Cdel'));
    const told = () =>
      slack
        .of('chat.postMessage')
        .filter((c) => c.body.channel === 'U78')
        .map((c) => String(c.body.text));
    await expect.poll(told).toEqual([expect.stringContaining('the message was deleted')]);
    expect(updatesOf(slack, p.ts).map((c) => c.answer.error)).toEqual([undefined, 'message_not_found']);
    await new Promise((r) => setTimeout(r, 2_000));
    expect(updatesOf(slack, p.ts)).toHaveLength(2);
    expect(told()).toHaveLength(1);
  });

  it('stores slash command text as typed and escapes it in every message', async () => {
    const p = await newPoll('"Fish &amp; Chips?" "&lt;!here&gt;" "B"', 'Fish & Chips?');
    const poll = (await pollJson(p.pollId)).poll;
    expect(poll.title).toBe('Fish & Chips?');
    expect(poll.questions[0]?.options[0]?.label).toBe('<!here>');
    const post = slack.of('chat.postMessage').find((c) => c.answer.ts === p.ts);
    const sent = JSON.stringify(post?.body);
    expect(sent).not.toContain('<!here>');
    expect(sent).toContain('&lt;!here&gt;');
    expect(sent).not.toContain('&amp;amp;');
    // App Home shows the title intact (escaped once, which Slack displays as typed)
    await req.event('T1', { type: 'app_home_opened', user: 'U1', tab: 'home' });
    await expect
      .poll(() => JSON.stringify(slack.of('views.publish').at(-1)?.body.view))
      .toContain('*Fish &amp; Chips?*');
  });

  it('takes /vote options: several choices each, a close time, anonymity', async () => {
    const now = new Date();
    const later = new Date(now.getTime() + 3 * 60_000);
    const hhmm = `${String(later.getHours()).padStart(2, '0')}:${String(later.getMinutes()).padStart(2, '0')}`;
    const p = await newPoll(`"Multi?" "A" "B" "C" --multi 2 --anonymous --closes ${hhmm}`, 'Multi?');
    const poll = (await pollJson(p.pollId)).poll;
    expect(poll.questions[0]?.max_choices).toBe(2);
    expect(poll.settings.anonymous).toBe(true);
    // HH:MM on the person's clock (this server's zone: the fake Slack names none), minutes only
    const closesAt = Date.parse(poll.closes_at ?? '');
    expect(closesAt).toBeGreaterThan(later.getTime() - 60_000);
    expect(closesAt).toBeLessThanOrEqual(later.getTime());
    // a click adds, a third choice is refused, a second click on one takes it off
    await req.action(voteClick(p.pollId, 'o1', 'U90', 'm1', p.ts));
    await req.action(voteClick(p.pollId, 'o2', 'U90', 'm2', p.ts));
    await req.action(voteClick(p.pollId, 'o3', 'U90', 'm3', p.ts));
    await expect.poll(() => ephemeralsTo('U90')).toContainEqual(expect.stringContaining('up to 2'));
    await req.action(voteClick(p.pollId, 'o1', 'U90', 'm4', p.ts));
    await expect
      .poll(async () => (await pollJson(p.pollId)).snapshot.questions[0]?.options.map((o) => o.vote_count))
      .toEqual([0, 1, 0]);
  });

  it('opens the /vote form for /vote alone and posts what it submits', async () => {
    await req.command('/vote', '', 'U1', 'T1', 'C1');
    await expect
      .poll(() => slack.of('views.open').at(-1)?.body.view)
      .toMatchObject({ callback_id: 'vote-modal' });
    const view = slack.of('views.open').at(-1)?.body.view as { private_metadata: string };
    await req.action({
      type: 'view_submission',
      team: { id: 'T1' },
      user: { id: 'U1', team_id: 'T1' },
      view: {
        id: 'V1',
        callback_id: 'vote-modal',
        private_metadata: view.private_metadata,
        state: {
          values: {
            question: { v: { value: 'From the form?' } },
            options: { v: { value: 'Soup\nSalad\n\nSoup' } },
            settings: { v: { selected_options: [{ value: 'add_options' }] } },
          },
        },
      },
    });
    await expect.poll(() => postedPoll(slack, 'From the form?')).not.toBeNull();
    const p = postedPoll(slack, 'From the form?') as NonNullable<ReturnType<typeof postedPoll>>;
    const poll = (await pollJson(p.pollId)).poll;
    expect(poll.questions[0]?.options.map((o) => o.label)).toEqual(['Soup', 'Salad']);
    expect(poll.settings.allow_add_options).toBe(true);
  });

  it('tells the clicker who voted for what', async () => {
    const p = await newPoll('"Who?" "A" "B"', 'Who?');
    await req.action(voteClick(p.pollId, 'o2', 'U41', 'w1', p.ts));
    await req.action(
      clickPayload({ actionId: 'who-voted', value: p.pollId, user: 'U42', actionTs: 'w2', messageTs: p.ts }),
    );
    await expect.poll(() => ephemeralsTo('U42')).toContainEqual(expect.stringMatching(/\*B\* \(1\): <@U41>/));
  });

  it('keeps 3 busy polls of one workspace within 50 chat.update calls a minute, each ending on its final tally', async () => {
    const polls = await Promise.all(
      ['Busy 1?', 'Busy 2?', 'Busy 3?'].map((q) => newPoll(`"${q}" "A" "B"`, q)),
    );
    const start = Date.now();
    // 100 clicks per poll over 25 s: 12 clicks every second
    for (let i = 0; i < 100; i++) {
      await Promise.all(
        polls.map((p, j) =>
          req.action(voteClick(p.pollId, i % 2 ? 'o2' : 'o1', `UB${j}x${i}`, `busy${j}.${i}`, p.ts)),
        ),
      );
      const due = start + ((i + 1) * 25_000) / 100;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    }
    for (const p of polls)
      await expect
        .poll(() => JSON.stringify(updatesOf(slack, p.ts).at(-1)?.body.blocks), {
          timeout: 90_000,
          interval: 1_000,
        })
        .toContain('` 50 (50%)');
    const times = polls.flatMap((p) => updatesOf(slack, p.ts).map((c) => c.at)).sort();
    for (const t of times)
      expect(times.filter((x) => x >= t && x < t + 60_000).length).toBeLessThanOrEqual(50);
  }, 180_000);
});
