// Two bot processes on one Postgres and one Redis share the chat messages through leases: each message ends on its
// final tally, no version is sent twice, and when one process is killed mid-burst the other finishes its messages.
import { createTestDatabase, type TestDatabase } from '@livevote/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exited, type Instance } from '../../bench/lib/instances.ts';
import { FakeSlack } from './fake-slack.ts';
import { startChatProcesses } from './processes.ts';
import { postedPoll, updatesOf, voteClick } from './slack-polls.ts';
import { slackRequests } from './slack-requests.ts';

const SECRET = 'slack-signing-secret-two-bots';

describe('two bot processes', () => {
  const slack = new FakeSlack();
  let db: TestDatabase;
  const instances: Instance[] = [];

  beforeAll(async () => {
    await slack.start();
    db = await createTestDatabase();
    instances.push(
      ...(await startChatProcesses(2, {
        db,
        slackUrl: slack.url,
        signingSecret: SECRET,
        adminToken: 'admin-token-for-two-bots-test-000000',
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

  it('ends every message on its final tally, never sends a version twice, and survives a kill', async () => {
    const [a, b] = instances as [Instance, Instance];
    const reqA = slackRequests(a.url, SECRET, slack.url);
    const reqB = slackRequests(b.url, SECRET, slack.url);
    // Polls posted through both processes: each holds the lease of the polls it posted.
    const questions = ['Two bots 1?', 'Two bots 2?', 'Two bots 3?', 'Two bots 4?'];
    for (const [i, q] of questions.entries())
      expect((await (i % 2 ? reqB : reqA).command('/vote', `"${q}" "A" "B"`)).status).toBe(200);
    await expect.poll(() => questions.every((q) => postedPoll(slack, q))).toBe(true);
    const polls = questions.map((q) => postedPoll(slack, q) as NonNullable<ReturnType<typeof postedPoll>>);

    const click = (p: (typeof polls)[0], i: number, j: number) =>
      voteClick(p.pollId, i % 2 ? 'o2' : 'o1', `U${j}x${i}`, `two${j}.${i}`, p.ts);
    // Slack sends a click again when it got no answer: a click to the killed process goes to the other one.
    const send = async (
      p: (typeof polls)[0],
      i: number,
      j: number,
      first: ReturnType<typeof slackRequests>,
    ) => {
      const ok = await first.action(click(p, i, j)).then(
        (r) => r.status === 200,
        () => false,
      );
      if (!ok) expect((await reqB.action(click(p, i, j))).status).toBe(200);
    };
    for (let i = 0; i < 40; i++) {
      if (i === 20) a.child.kill('SIGKILL'); // mid-burst, without a goodbye: its leases expire
      await Promise.all(polls.map((p, j) => send(p, i, j, i % 2 && i < 20 ? reqA : reqB)));
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const p of polls)
      await expect
        .poll(() => JSON.stringify(updatesOf(slack, p.ts).at(-1)?.body.blocks), {
          timeout: 60_000,
          interval: 500,
        })
        .toContain('` 20 (50%)');
    // No version went out twice (with new voters only, every version shows different counts).
    for (const p of polls) {
      const shown = updatesOf(slack, p.ts).map((c) => JSON.stringify(c.body.blocks));
      expect(new Set(shown).size).toBe(shown.length);
    }
  }, 180_000);
});
