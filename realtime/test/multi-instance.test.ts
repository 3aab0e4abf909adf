// Three realtime instances on one real Postgres and Redis: the fan-out, recovery and privacy guarantees.
import {
  createTestDatabase,
  startPrivateRedis,
  TEST_REDIS_URL,
  type TestDatabase,
  testPrefix,
} from '@livevote/core/testing';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLunchPoll, type Instance, startInstance, TestClient, vote } from './cluster.ts';

const trueTally = async (inst: Instance, pollId: string) => {
  const res = await fetch(`${inst.url}/api/votes/stats?poll_id=${pollId}`);
  return (await res.json()) as { version: number; place_votes: { place_id: string; vote_count: number }[] };
};
const counts = (s: { place_votes?: { vote_count: number }[] } | undefined) =>
  s?.place_votes?.map((p) => p.vote_count);

describe('three instances sharing Postgres and Redis', () => {
  let db: TestDatabase;
  let nodes: Instance[];
  beforeAll(async () => {
    db = await createTestDatabase();
    const prefix = testPrefix();
    nodes = [];
    for (let i = 0; i < 3; i++) nodes.push(await startInstance(db.url, TEST_REDIS_URL, prefix));
  });
  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await db.drop();
  });

  it('sends a vote cast on A to sockets on B and C, ending on the true tally', async () => {
    const [a, b, c] = nodes as [Instance, Instance, Instance];
    const pollId = await createLunchPoll(a.url);
    const onB = await TestClient.open(`${b.ws}?emp_no=2&poll_id=${pollId}`);
    const onC = await TestClient.open(`${c.ws}?poll_id=${pollId}`); // a read-only board
    // The original lunch-vote client names no poll: it gets today's lunch poll (this one, the newest).
    const original = await TestClient.open(`${c.ws}?emp_no=3`);
    const clients = [onB, onC, original];
    await expect.poll(() => clients.every((cl) => cl.latest.has(pollId))).toBe(true);
    for (let i = 0; i < 30; i++) await vote(a.url, pollId, 1000 + i, `p${(i % 3) + 1}`);
    const truth = await trueTally(a, pollId);
    for (const client of clients) {
      await expect.poll(() => client.latest.get(pollId)?.version).toBe(truth.version);
      expect(counts(client.latest.get(pollId))).toEqual([10, 10, 10]);
      expect(client.of('connection_ack')).toHaveLength(1);
    }
    // One frame per update for clients of this protocol; the original client's per-option frames for it alone.
    for (const client of [onB, onC]) {
      expect(
        client.frames.map((f) => f.type).filter((t) => t !== 'vote_update' && t !== 'connection_ack'),
      ).toEqual(client.of('presence').map(() => 'presence'));
      expect(client.of('place_vote')).toEqual([]);
    }
    const last = original.of('place_vote').at(-1)?.data;
    expect(last?.poll_id).toBe(pollId);
    expect(last?.version).toBe(truth.version);
    expect(last?.vote_count).toBe(10);
    expect(onB.of('connection_ack')[0]?.data.emp_no).toBe('2');
    expect(onC.of('connection_ack')[0]?.data.emp_no).toBeNull();
    for (const client of clients) client.close();
  });

  it('shares presence across instances: online and "N people voting"', async () => {
    const [a, b] = nodes as [Instance, Instance];
    const pollId = await createLunchPoll(a.url);
    const voter = await TestClient.open(`${a.ws}?emp_no=77&poll_id=${pollId}`);
    const board = await TestClient.open(`${b.ws}?poll_id=${pollId}`);
    voter.send('voting', { poll_id: pollId });
    await expect
      .poll(() => board.presence.get(pollId), { timeout: 10_000 })
      .toEqual({ online_count: 2, voting_count: 1 });
    voter.close();
    await expect.poll(() => board.presence.get(pollId)?.online_count, { timeout: 10_000 }).toBe(1);
    board.close();
  });

  it('answers ping, subscribe with a known version, and resync', async () => {
    const [a, b] = nodes as [Instance, Instance];
    const pollId = await createLunchPoll(a.url);
    await vote(a.url, pollId, 1, 'p1');
    const newest = await createLunchPoll(a.url);
    // Like the original client: no poll_id, so it is subscribed to the newest open lunch poll.
    const client = await TestClient.open(`${b.ws}?emp_no=3`);
    await expect.poll(() => client.latest.has(newest)).toBe(true);
    client.send('ping');
    await expect.poll(() => client.of('pong').length).toBe(1);
    const { version } = await trueTally(a, pollId);
    client.send('subscribe', { poll_id: pollId, version });
    client.send('ping');
    await expect.poll(() => client.of('pong').length).toBe(2);
    expect(client.latest.has(pollId)).toBe(false); // it said it had the current version: nothing to send
    client.send('resync', { poll_id: pollId });
    await expect.poll(() => client.latest.has(pollId)).toBe(true); // resync always answers with the snapshot
    client.send('subscribe', { poll_id: pollId, version: 0 });
    await expect.poll(() => client.of('vote_update').filter((f) => f.data.poll_id === pollId).length).toBe(2);
    client.send('subscribe', { poll_id: 'nosuchpoll' });
    await expect.poll(() => client.of('error').map((e) => e.data.code)).toContain('unknown_poll');
    client.close();
  });

  it('answers malformed frames with an error and keeps the connection, until repeated abuse closes it (1008)', async () => {
    const [a] = nodes as [Instance];
    const client = await TestClient.open(`${a.ws}?emp_no=4`);
    client.ws.send('not json');
    client.send('subscribe', { poll: 'x' });
    client.send('teleport', {});
    await expect.poll(() => client.of('error').length).toBe(3);
    expect(client.of('error').every((e) => e.data.code === 'invalid_frame')).toBe(true);
    client.send('ping');
    await expect.poll(() => client.of('pong').length).toBe(1);
    expect(client.closed).toBeUndefined();
    client.ws.send('{');
    client.ws.send('[]');
    await expect.poll(() => client.closed?.code).toBe(1008);
  });

  it('closes a connection that sends an oversized frame, and refuses bad identities at the upgrade', async () => {
    const [a] = nodes as [Instance];
    const client = await TestClient.open(`${a.ws}?emp_no=5`);
    client.ws.send(JSON.stringify({ type: 'ping', data: { pad: 'x'.repeat(10_000) } }));
    await expect.poll(() => client.closed?.code).toBe(1009);
    await expect(TestClient.open(`${a.ws}?emp_no=${'9'.repeat(10_000)}`)).rejects.toThrow(/400/);
    await expect(TestClient.open(`${a.ws}?emp_no=abc`)).rejects.toThrow(/400/);
    await expect(TestClient.open(a.ws.replace('/ws/votes', '/ws/other'))).rejects.toThrow(/404/);
  });

  it('never puts a voter identity in the frames of an anonymous poll', async () => {
    const [a, b] = nodes as [Instance, Instance];
    const pollId = await createLunchPoll(a.url, { anonymous: true });
    const watcher = await TestClient.open(`${b.ws}?emp_no=1&poll_id=${pollId}`);
    const sse = await fetch(`${a.url}/api/polls/${pollId}/events`);
    const reader = sse.body?.getReader();
    for (const emp of ['987654', '876543']) await vote(a.url, pollId, emp, 'p2');
    const truth = await trueTally(a, pollId);
    await expect.poll(() => watcher.latest.get(pollId)?.version).toBe(truth.version);
    let sseText = '';
    while (!sseText.includes(`id: ${truth.version}\n`))
      sseText += new TextDecoder().decode((await reader?.read())?.value);
    await reader?.cancel();
    const everything = watcher.raw.join('\n') + sseText;
    for (const secret of ['987654', '876543', 'emp:']) expect(everything).not.toContain(secret);
    watcher.close();
  });

  it('streams the same messages over SSE, with the version as event id and Last-Event-ID honoured', async () => {
    const [a, b] = nodes as [Instance, Instance];
    const pollId = await createLunchPoll(a.url);
    const res = await fetch(`${b.url}/api/polls/${pollId}/events`);
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    const reader = res.body?.getReader();
    const read = async (until: (s: string) => boolean) => {
      let text = '';
      while (!until(text)) text += new TextDecoder().decode((await reader?.read())?.value);
      return text;
    };
    expect(await read((t) => t.includes('event: vote_update'))).toMatch(
      /id: 0\nevent: vote_update\ndata: \{"poll_id"/,
    );
    await vote(a.url, pollId, 10, 'p3');
    const text = await read((t) => /id: 1\nevent: vote_update\ndata: .*\n\n/.test(t));
    expect(text).toMatch(/id: 1\nevent: vote_update/);
    // p3 took the lead: said inside the vote_update, not in an event of its own.
    expect(text).toContain('"leader_changed":[{"question_id":"place","option_id":"p3"');
    await reader?.cancel();
    // A reconnect that already has the current version gets no snapshot first, only later changes.
    const again = await fetch(`${b.url}/api/polls/${pollId}/events`, { headers: { 'last-event-id': '1' } });
    const r2 = again.body?.getReader();
    await vote(a.url, pollId, 11, 'p3');
    let t2 = '';
    while (!t2.includes('event: vote_update')) t2 += new TextDecoder().decode((await r2?.read())?.value);
    expect(t2).not.toContain('id: 1\n');
    expect(t2).toContain('id: 2\n');
    await r2?.cancel();
    expect((await fetch(`${b.url}/api/polls/nosuchpoll/events`)).status).toBe(404);
  });
});

describe('a Redis restart in the middle of voting', () => {
  it('loses no update on any screen: every client converges to the true tally', async () => {
    const db = await createTestDatabase();
    const redis = await startPrivateRedis();
    const prefix = testPrefix();
    const nodes: Instance[] = [];
    try {
      for (let i = 0; i < 3; i++) nodes.push(await startInstance(db.url, redis.url, prefix));
      const [a, b, c] = nodes as [Instance, Instance, Instance];
      const pollId = await createLunchPoll(a.url);
      const clients = await Promise.all(
        [b, c, a].map((n, i) => TestClient.open(`${n.ws}?emp_no=${i + 1}&poll_id=${pollId}`)),
      );
      await expect.poll(() => clients.every((cl) => cl.latest.has(pollId))).toBe(true);
      const voting = (async () => {
        for (let i = 0; i < 60; i++) {
          const target = nodes[i % 3] as Instance;
          const res = await vote(target.url, pollId, 5000 + i, `p${(i % 3) + 1}`);
          expect(res.status).toBe(200); // votes never depend on Redis
          await new Promise((r) => setTimeout(r, 15));
        }
      })();
      await new Promise((r) => setTimeout(r, 200));
      await redis.stop();
      await new Promise((r) => setTimeout(r, 400));
      await redis.start();
      await voting;
      const truth = await trueTally(a, pollId);
      expect(counts(truth)).toEqual([20, 20, 20]);
      for (const cl of clients) {
        await expect.poll(() => cl.latest.get(pollId)?.version, { timeout: 15_000 }).toBe(truth.version);
        expect(counts(cl.latest.get(pollId))).toEqual([20, 20, 20]);
        cl.close();
      }
    } finally {
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
      await db.drop();
    }
  });
});

describe('interest-based routing on Redis', () => {
  it('sends an instance only the polls it has viewers for; a viewer elsewhere converges across a Redis restart', async () => {
    const db = await createTestDatabase();
    const redis = await startPrivateRedis();
    const prefix = testPrefix();
    const nodes: Instance[] = [];
    const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
    admin.on('error', () => {});
    try {
      for (let i = 0; i < 2; i++) nodes.push(await startInstance(db.url, redis.url, prefix));
      const [one, two] = nodes as [Instance, Instance];
      const pollA = await createLunchPoll(one.url);
      const pollB = await createLunchPoll(one.url);
      const heardByOne: string[] = [];
      one.bus.subscribe((e) => heardByOne.push(e.poll_id));
      const viewerA = await TestClient.open(`${one.ws}?poll_id=${pollA}`);
      const viewerB = await TestClient.open(`${two.ws}?poll_id=${pollB}`);
      await expect.poll(() => viewerA.latest.has(pollA) && viewerB.latest.has(pollB)).toBe(true);
      expect([...one.bus.watching()]).toEqual([pollA]);
      expect([...two.bus.watching()]).toEqual([pollB]);
      const numsub = async (poll: string) =>
        Number(((await admin.pubsub('NUMSUB', `${prefix}poll:${poll}`)) as [string, number])[1]);
      expect(await numsub(pollA)).toBe(1);
      expect(await numsub(pollB)).toBe(1);

      // Votes on B cast through instance one, which has no viewer of B: it publishes, but never receives B.
      for (let i = 0; i < 10; i++) await vote(one.url, pollB, 7000 + i, `p${(i % 2) + 1}`);
      await expect.poll(() => counts(viewerB.latest.get(pollB))).toEqual([5, 5, 0]);
      await vote(two.url, pollA, 7100, 'p3'); // and A's votes, cast on two, reach one
      await expect.poll(() => counts(viewerA.latest.get(pollA))).toEqual([0, 0, 1]);
      expect(heardByOne).toContain(pollA);
      expect(heardByOne).not.toContain(pollB);

      await redis.stop();
      for (let i = 10; i < 16; i++) await vote(one.url, pollB, 7000 + i, 'p3'); // while Redis is down
      await redis.start();
      for (let i = 16; i < 20; i++) await vote(one.url, pollB, 7000 + i, 'p3'); // and after it is back
      const truth = await trueTally(one, pollB);
      expect(counts(truth)).toEqual([5, 5, 10]);
      await expect.poll(() => viewerB.latest.get(pollB)?.version, { timeout: 15_000 }).toBe(truth.version);
      expect(heardByOne).not.toContain(pollB);
      // After the restart the subscriptions are back, still by interest.
      await expect.poll(() => numsub(pollB), { timeout: 10_000 }).toBe(1);
      viewerA.close();
      viewerB.close();
      // When its last viewer leaves, an instance stops receiving the poll.
      await expect.poll(() => two.bus.watching().size).toBe(0);
      await expect.poll(() => numsub(pollB)).toBe(0);
    } finally {
      admin.disconnect();
      await Promise.all(nodes.map((n) => n.stop()));
      await redis.stop();
      await db.drop();
    }
  });
});
