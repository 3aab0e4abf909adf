// The limiters built from config: the windows they count in, one budget across instances sharing Redis, and a
// failing or hung Redis that never stops a vote (each instance counts on its own meanwhile, and says so once).
import { startPrivateRedis, TEST_REDIS_URL, testPrefix } from '@livevote/core/testing';
import type { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { openLimiterClient } from './adapters.ts';
import { parseConfig } from './config.ts';
import { createLimits, evenly, type Limits } from './limits.ts';

class Log {
  readonly warnings: string[] = [];
  warn(_o: object, msg?: string) {
    this.warnings.push(msg ?? '');
  }
}

const clients: Redis[] = [];
async function client(url = TEST_REDIS_URL): Promise<Redis> {
  const c = await openLimiterClient(url);
  clients.push(c);
  return c;
}
afterAll(() => {
  for (const c of clients) c.disconnect();
});

/** `n` takes of one key, one after another; how many were allowed. */
async function allowed(limit: Limits[keyof Limits], key: string, n: number): Promise<number> {
  let ok = 0;
  for (let i = 0; i < n; i++) if ((await limit.take(key)).ok) ok++;
  return ok;
}

describe('abuse limits', () => {
  it('are off with ABUSE_LIMITS=off', () => {
    expect(createLimits(parseConfig({ ABUSE_LIMITS: 'off' }), new Log())).toBeUndefined();
    expect(parseConfig({}).ABUSE_LIMITS).toBe('on');
  });

  it('spread the vote rate over the shortest whole-second window', () => {
    expect(evenly(30)).toEqual({ points: 1, duration: 2 });
    expect(evenly(45)).toEqual({ points: 3, duration: 4 });
    expect(evenly(7)).toEqual({ points: 7, duration: 60 });
    expect(evenly(120)).toEqual({ points: 2, duration: 1 });
  });

  it('in memory: a voter gets the window and the burst, then a wait; other keys are untouched', async () => {
    const limits = createLimits(
      parseConfig({ VOTE_LIMIT_PER_MINUTE: '1', VOTE_LIMIT_BURST: '3', WS_CONNECT_LIMIT_PER_MINUTE: '5' }),
      new Log(),
    ) as Limits;
    expect(await allowed(limits.vote, 'emp:1', 10)).toBe(4);
    const refused = await limits.vote.take('emp:1');
    expect(refused.ok).toBe(false);
    expect(!refused.ok && refused.retryAfterMs).toBeGreaterThan(0);
    expect(!refused.ok && refused.retryAfterMs).toBeLessThanOrEqual(60_000);
    expect((await limits.vote.take('emp:2')).ok).toBe(true);
    // Connections: the whole minute's allowance at once (an office reconnecting together), then nothing.
    expect(await allowed(limits.connect, '10.0.0.1', 8)).toBe(5);
    expect((await limits.connect.take('10.0.0.2')).ok).toBe(true);
  });

  it('over Redis: two instances spend one budget', async () => {
    const config = parseConfig({
      REDIS_URL: TEST_REDIS_URL,
      REDIS_PREFIX: testPrefix(),
      VOTE_LIMIT_PER_MINUTE: '1',
      VOTE_LIMIT_BURST: '3',
    });
    const a = createLimits(config, new Log(), await client()) as Limits;
    const b = createLimits(config, new Log(), await client()) as Limits;
    let ok = 0;
    for (let i = 0; i < 20; i++) if ((await (i % 2 ? a : b).vote.take('emp:7')).ok) ok++;
    expect(ok).toBe(4);
  });

  it('fail open when Redis goes away, counting locally, and warn once', async () => {
    const redis = await startPrivateRedis();
    try {
      const log = new Log();
      const config = parseConfig({
        REDIS_URL: redis.url,
        REDIS_PREFIX: testPrefix(),
        VOTE_LIMIT_PER_MINUTE: '1',
        VOTE_LIMIT_BURST: '3',
      });
      const limits = createLimits(config, log, await client(redis.url)) as Limits;
      expect(await allowed(limits.vote, 'emp:1', 2)).toBe(2);
      expect(log.warnings).toEqual([]);
      await redis.stop();
      // Votes go on: a voter never seen is let through at once; a hammering one is still cut, by this instance.
      expect(await allowed(limits.vote, 'emp:2', 4)).toBe(4);
      expect(await allowed(limits.vote, 'emp:3', 20)).toBe(4);
      expect(log.warnings).toHaveLength(1);
      expect(log.warnings[0]).toContain('Redis');
    } finally {
      await redis.stop();
    }
  });

  it('fail open when Redis hangs: the command times out and the local count answers', async () => {
    const redis = await startPrivateRedis();
    try {
      const log = new Log();
      const config = parseConfig({ REDIS_URL: redis.url, REDIS_PREFIX: testPrefix() });
      const limits = createLimits(config, log, await client(redis.url)) as Limits;
      expect((await limits.vote.take('emp:1')).ok).toBe(true);
      const admin = await client(redis.url);
      await admin.call('CLIENT', 'PAUSE', '5000', 'ALL');
      expect((await limits.vote.take('emp:2')).ok).toBe(true);
      expect(log.warnings).toHaveLength(1);
    } finally {
      await redis.stop();
    }
  });
});
