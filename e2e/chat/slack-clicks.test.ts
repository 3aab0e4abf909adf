// Slack vote clicks on a real Postgres, the way Slack sends them: two quick clicks of one person arrive together, and
// Slack gives up on a click after 3 s (it shows the person an error and never sends the click again).
import type { Snapshot } from '@livevote/core/protocol';
import { createTestDatabase, TEST_ANONYMITY_KEY, type TestDatabase } from '@livevote/core/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Booted, boot } from '../boot.ts';
import { FakeSlack } from './fake-slack.ts';
import { postedPoll, voteClick } from './slack-polls.ts';
import { slackRequests } from './slack-requests.ts';

const SECRET = 'slack-signing-secret-for-click-tests';

describe('Slack vote clicks on Postgres', () => {
  const slack = new FakeSlack();
  let app: Booted;
  let db: TestDatabase;
  let req: ReturnType<typeof slackRequests>;

  beforeAll(async () => {
    await slack.start();
    db = await createTestDatabase();
    app = await boot({
      DATABASE_URL: db.url,
      ADMIN_TOKEN: 'an-e2e-admin-token-0123456789',
      ANONYMITY_KEY: TEST_ANONYMITY_KEY,
      ABUSE_LIMITS: 'off',
      // The slow click's commit waits on a lock past Slack's 3 s: room for it on a loaded machine.
      DATABASE_STATEMENT_TIMEOUT_MS: '20000',
      DATABASE_QUERY_TIMEOUT_MS: '21000',
      SLACK_SIGNING_SECRET: SECRET,
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_API_URL: slack.url,
    });
    req = slackRequests(app.base, SECRET, slack.url);
  }, 120_000);

  afterAll(async () => {
    await app?.stop();
    await slack.stop();
    await db?.drop();
  });

  const poll = async (question: string, extra = '') => {
    expect((await req.command('/vote', `"${question}" "A" "B" "C"${extra}`)).status).toBe(200);
    await expect.poll(() => postedPoll(slack, question)).not.toBeNull();
    return postedPoll(slack, question) as NonNullable<ReturnType<typeof postedPoll>>;
  };
  const counts = async (pollId: string) =>
    (
      (await (await fetch(`${app.base}/api/polls/${pollId}`)).json()) as { snapshot: Snapshot }
    ).snapshot.questions[0]?.options.map((o) => o.vote_count);

  it('keeps both choices of two quick clicks in a poll where each picks two', async () => {
    const p = await poll('Both?', ' --multi 2');
    for (let u = 0; u < 10; u++) {
      const answers = await Promise.all([
        req.action(voteClick(p.pollId, 'o1', `UQ${u}`, `111.${u}1`, p.ts)),
        req.action(voteClick(p.pollId, 'o2', `UQ${u}`, `111.${u}2`, p.ts)),
      ]);
      expect(answers.map((r) => r.status)).toEqual([200, 200]);
    }
    expect(await counts(p.pollId)).toEqual([10, 10, 0]);
  });

  it('answers a click within Slack’s 3 s while its commit waits, then confirms the vote to the person', async () => {
    const p = await poll('Slow?');
    // Another transaction holds this voter's lock (as a long cast of theirs would): the click's commit waits on it.
    const holder = new pg.Client({ connectionString: db.url });
    await holder.connect();
    try {
      await holder.query('begin');
      await holder.query(
        "select pg_advisory_xact_lock(hashtextextended($1 || chr(31) || 'slack:T1:USLOW', 0))",
        [p.pollId],
      );
      // Answered while the lock is still held: the answer did not wait for the commit (it comes after 2.5 s).
      const click = await req.action(voteClick(p.pollId, 'o3', 'USLOW', '222.1', p.ts));
      expect(click.status).toBe(200);
      expect(await counts(p.pollId)).toEqual([0, 0, 0]); // not committed yet
      await holder.query('commit');
    } finally {
      await holder.end();
    }
    await expect
      .poll(() => slack.of('chat.postEphemeral').map((c) => `${c.body.user} ${c.body.text}`))
      .toContainEqual('USLOW :white_check_mark: Your vote: *C*');
    expect(await counts(p.pollId)).toEqual([0, 0, 1]);
  });
});
