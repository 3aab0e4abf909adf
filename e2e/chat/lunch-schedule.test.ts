// The lunch ritual end to end in a Slack channel, with three processes on one database: a schedule opening at the
// next minute posts exactly one lunch poll built from the catalog, the poll closes by itself at its close time with
// exactly one winner reply in its thread, and `POST /api/schedules/:id/run` posts today's poll at once (once).
import type { Poll, Schedule } from '@livevote/core/protocol';
import { createTestDatabase, type TestDatabase } from '@livevote/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, type Instance } from '../../bench/lib/instances.ts';
import { FakeSlack, type SlackCall } from './fake-slack.ts';
import { startChatProcesses } from './processes.ts';
import { voteClick } from './slack-polls.ts';
import { slackRequests } from './slack-requests.ts';

const SECRET = 'slack-signing-secret-lunch-schedule';
const ADMIN = 'admin-token-for-lunch-schedule-test-0000';
const WORKSPACE = 'slack:T1';

/** Wall-clock HH:MM of `at` in `timezone`. */
const hhmm = (at: Date, timezone: string) =>
  new Intl.DateTimeFormat('en-GB', {
    timeZone: timezone,
    hour: '2-digit',
    minute: '2-digit',
    hourCycle: 'h23',
  })
    .format(at)
    .replace(/^24/, '00');

/** The poll id a poll message's vote buttons carry (`<poll>|<option>`). */
const pollIdOf = (c: SlackCall) =>
  JSON.stringify(c.body.blocks ?? '').match(/"value":"([A-Za-z0-9_-]+)\|/)?.[1];

describe('a Slack channel schedule with three instances', () => {
  const slack = new FakeSlack();
  let db: TestDatabase;
  const instances: Instance[] = [];
  const api = (path: string, init: RequestInit = {}) =>
    fetch(`${(instances[0] as Instance).url}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}`, ...init.headers },
    });
  const posts = (channel: string) =>
    slack.of('chat.postMessage').filter((c) => c.body.channel === channel && c.answer.ok === true);
  /** Poll messages (with vote buttons) posted to the channel, not thread replies. */
  const pollPosts = (channel: string) => posts(channel).filter((c) => !c.body.thread_ts && pollIdOf(c));

  beforeAll(async () => {
    await slack.start();
    db = await createTestDatabase();
    instances.push(
      ...(await startChatProcesses(3, {
        db,
        slackUrl: slack.url,
        signingSecret: SECRET,
        adminToken: ADMIN,
        env: { LUNCH_RITUAL: 'on', LUNCH_TICK_MS: '500' },
      })),
    );
  }, 120_000);

  afterAll(async () => {
    for (const i of instances) {
      i.child.kill('SIGTERM');
      await exited(i.child);
    }
    await slack.stop();
    await db?.drop();
  });

  it('posts today’s poll at once on POST /api/schedules/:id/run, and the same poll on a second call', async () => {
    // Opens and closes late in the day (or it would also run by itself now): the run posts it at once anyway.
    const created = await api('/api/schedules', {
      method: 'POST',
      body: JSON.stringify({
        workspace: WORKSPACE,
        destination: { platform: 'slack', channel: 'CRUN' },
        weekdays: [1, 2, 3, 4, 5, 6, 7],
        open_at: '23:57',
        close_at: '23:58',
        timezone: 'Pacific/Kiritimati',
        reminder_minutes: null,
      }),
    });
    expect(created.status).toBe(201);
    const { schedule } = (await created.json()) as { schedule: Schedule };
    const first = await api(`/api/schedules/${schedule.id}/run`, { method: 'POST' });
    expect(first.status).toBe(201);
    const { poll } = (await first.json()) as { poll: Poll };
    // At once: the post is made before the answer.
    expect(pollPosts('CRUN').map(pollIdOf)).toEqual([poll.id]);
    const again = await (instances[1] as Instance).url;
    const second = await fetch(`${again}/api/schedules/${schedule.id}/run`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(second.status).toBe(200);
    expect(((await second.json()) as { poll: Poll }).poll.id).toBe(poll.id);
    expect(pollPosts('CRUN')).toHaveLength(1);
    expect(slack.of('pins.add').some((c) => c.body.channel === 'CRUN')).toBe(true);
  }, 30_000);

  it('opens at the next minute with one poll from the catalog, closes by itself, and replies the winner once', async () => {
    // A place of this workspace's catalog: the poll must offer it (built from the catalog, not an older poll).
    const added = await api('/api/catalog/places', {
      method: 'POST',
      body: JSON.stringify({ workspace: WORKSPACE, name: 'Schedule Pho', menus: [{ name: 'Pho bo' }] }),
    });
    expect(added.status).toBe(201);
    const { place } = (await added.json()) as { place: { id: string } };
    const catalog = (await (await api(`/api/catalog/places?workspace=${WORKSPACE}`)).json()) as {
      places: { id: string; active: boolean }[];
    };
    const active = catalog.places.filter((p) => p.active).map((p) => p.id);

    // A zone where the next two minutes stay within today.
    const now = new Date();
    const timezone =
      ['Asia/Seoul', 'Europe/London', 'America/New_York'].find(
        (tz) => hhmm(now, tz) < '23:55' && hhmm(now, tz) > '00:01',
      ) ?? 'Asia/Seoul';
    const openAt = new Date(Math.floor(now.getTime() / 60_000) * 60_000 + 60_000);
    const closeAt = new Date(openAt.getTime() + 60_000);
    const created = await api('/api/schedules', {
      method: 'POST',
      body: JSON.stringify({
        workspace: WORKSPACE,
        destination: { platform: 'slack', channel: 'CLUNCH' },
        weekdays: [1, 2, 3, 4, 5, 6, 7],
        open_at: hhmm(openAt, timezone),
        close_at: hhmm(closeAt, timezone),
        timezone,
        reminder_minutes: 1,
      }),
    });
    expect(created.status).toBe(201);
    expect(pollPosts('CLUNCH')).toHaveLength(0);

    // It opens by itself at the next minute, posted once though three processes look every half second.
    await expect
      .poll(() => pollPosts('CLUNCH').length, { timeout: 75_000, interval: 250 })
      .toBeGreaterThan(0);
    const post = pollPosts('CLUNCH')[0] as SlackCall;
    expect(post.at).toBeGreaterThanOrEqual(openAt.getTime() - 1_000);
    const pollId = pollIdOf(post) as string;
    const ts = String(post.answer.ts);
    const shown = JSON.stringify(post.body.blocks);
    for (const id of active) expect(shown).toContain(`${pollId}|${id}`);
    expect(shown).toContain(`${pollId}|${place.id}`);

    // Two votes for the new place, through two different processes.
    for (const [i, user] of ['U1', 'U2'].entries()) {
      const req = slackRequests((instances[i + 1] as Instance).url, SECRET, slack.url);
      expect((await req.action(voteClick(pollId, place.id, user, `a${i}.1`, ts, 'CLUNCH'))).status).toBe(200);
    }

    // It closes by itself at its close time (± 5 s), and the thread gets one winner reply.
    const replies = () =>
      posts('CLUNCH').filter(
        (c) => c.body.thread_ts === ts && !String(c.body.text).includes(':alarm_clock:'),
      );
    await expect.poll(() => replies().length, { timeout: 80_000, interval: 250 }).toBeGreaterThan(0);
    const reply = replies()[0] as SlackCall;
    expect(Math.abs(reply.at - closeAt.getTime())).toBeLessThan(5_000);
    expect(String(reply.body.text)).toContain('Schedule Pho');
    const status = (await (await api(`/api/polls/${pollId}`)).json()) as { poll: { status: string } };
    expect(status.poll.status).toBe('closed');
    // The three processes had time to announce again: nobody did, and the poll was posted once.
    await new Promise((r) => setTimeout(r, 4_000));
    expect(replies()).toHaveLength(1);
    expect(pollPosts('CLUNCH')).toHaveLength(1);
    // The one reminder (a minute before close, i.e. as soon as it opened) went to the thread, once.
    expect(posts('CLUNCH').filter((c) => String(c.body.text).includes(':alarm_clock:'))).toHaveLength(1);
  }, 170_000);
});
