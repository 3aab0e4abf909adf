import { Redis } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { busContract } from '../../test/bus-contract.ts';
import { startPrivateRedis, TEST_REDIS_URL, testPrefix } from '../../testing/index.ts';
import { RedisBus } from './redis-bus.ts';

async function redisBus(url: string, prefix: string) {
  const pub = new Redis(url, { maxRetriesPerRequest: 1 });
  const sub = new Redis(url, { maxRetriesPerRequest: 1 });
  for (const c of [pub, sub]) c.on('error', () => {});
  const bus = new RedisBus(pub, sub, prefix);
  await bus.start();
  return { bus, quit: () => Promise.all([pub.quit(), sub.quit()]).then(() => {}) };
}

busContract('Redis', async () => {
  const prefix = testPrefix();
  const a = await redisBus(TEST_REDIS_URL, prefix);
  const b = await redisBus(TEST_REDIS_URL, prefix);
  return { a: a.bus, b: b.bus, close: async () => void (await Promise.all([a.quit(), b.quit()])) };
});

const presence = (pollId: string) =>
  ({ type: 'presence', poll_id: pollId, instance: 'i1', online: 1, voting: 0 }) as const;

describe('Redis bus', () => {
  it("routes by interest: Redis counts a subscriber on a poll's channel only for instances that watch it", async () => {
    const prefix = testPrefix();
    const a = await redisBus(TEST_REDIS_URL, prefix);
    const b = await redisBus(TEST_REDIS_URL, prefix);
    const admin = new Redis(TEST_REDIS_URL);
    await a.bus.watch('A');
    await b.bus.watch('B');
    const numsub = async (poll: string) =>
      Number(((await admin.pubsub('NUMSUB', `${prefix}poll:${poll}`)) as [string, number])[1]);
    expect(await numsub('A')).toBe(1);
    expect(await numsub('B')).toBe(1);
    await b.bus.watch('A');
    expect(await numsub('A')).toBe(2);
    await b.bus.unwatch('A');
    expect(await numsub('A')).toBe(1);
    admin.disconnect();
    await Promise.all([a.quit(), b.quit()]);
  });

  it('keeps deployments with different prefixes apart', async () => {
    const a = await redisBus(TEST_REDIS_URL, testPrefix());
    const b = await redisBus(TEST_REDIS_URL, testPrefix());
    await Promise.all([a.bus.watch('x'), b.bus.watch('x')]);
    const heard: unknown[] = [];
    b.bus.subscribe((e) => heard.push(e));
    const own = new Promise((r) => a.bus.subscribe(r));
    await a.bus.publish(presence('x'));
    await own;
    await new Promise((r) => setTimeout(r, 50));
    expect(heard).toEqual([]);
    await Promise.all([a.quit(), b.quit()]);
  });

  it('drops (never queues) events while Redis is down, and tells subscribers when it is back', async () => {
    const redis = await startPrivateRedis();
    const prefix = testPrefix();
    const opts = { maxRetriesPerRequest: 1, retryStrategy: () => 50 };
    const pub = new Redis(redis.url, opts);
    const sub = new Redis(redis.url, opts);
    for (const c of [pub, sub]) c.on('error', () => {}); // refused connections are the point of this test
    const bus = new RedisBus(pub, sub, prefix);
    await bus.start();
    await bus.watch('after');
    try {
      let reconnects = 0;
      bus.onReconnect(() => reconnects++);
      await redis.stop();
      await new Promise((r) => setTimeout(r, 200));
      expect(bus.ready()).toBe(false);
      await bus.publish(presence('lost')); // resolves at once, nothing queued
      await bus.watch('late'); // a watch begun during the outage takes effect once Redis is back
      await redis.start();
      await expect.poll(() => reconnects, { timeout: 10_000 }).toBe(1);
      expect(bus.ready()).toBe(true);
      // after the reconnect, delivery works again and the dropped event does not reappear
      const got: unknown[] = [];
      const listener2 = await redisBus(redis.url, prefix);
      await Promise.all([listener2.bus.watch('after'), listener2.bus.watch('lost')]);
      listener2.bus.subscribe((e) => got.push(e));
      await bus.publish(presence('after'));
      await expect.poll(() => got.length).toBe(1);
      expect(got).toEqual([presence('after')]);
      await listener2.quit();
      // the watch made while Redis was down is live: the bus hears a poll it started watching during the outage
      const heard: string[] = [];
      bus.subscribe((e) => heard.push(e.poll_id));
      const other = await redisBus(redis.url, prefix);
      await expect
        .poll(async () => {
          await other.bus.publish(presence('late'));
          return heard.includes('late');
        })
        .toBe(true);
      await other.quit();
    } finally {
      pub.disconnect();
      sub.disconnect();
      await redis.stop();
    }
  });
});
