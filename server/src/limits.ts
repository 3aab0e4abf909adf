// The abuse limits, built from config: ballot changes per voter, and new WebSockets and poll creation per client
// address. Over Redis when REDIS_URL is set, so every instance spends the same budget; in memory otherwise (the
// embedded mode is one process). A failing Redis never stops a vote: each instance then counts on its own.
import { type Admission, atMostEvery, type RateLimit } from '@livevote/core';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import {
  BurstyRateLimiter,
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Config } from './config.ts';

export interface Limits {
  /** Per voter key: casts and retracts, from every edge (castVote applies it). */
  vote: RateLimit;
  /** Per client address: WebSocket upgrades. */
  connect: RateLimit;
  /** Per client address: POST /api/polls. */
  createPoll: RateLimit;
}

/** `points` per `duration` seconds, in fixed windows. */
interface Window {
  points: number;
  duration: number;
}

interface Rule {
  name: string;
  window: Window;
  /** Extra points on top of the window's, spent only once it is used up. */
  burst?: Window;
}

/** A failing Redis is reported at most this often: a vote every millisecond must not mean a log line each. */
export const STORE_WARNING_EVERY_MS = 60_000;

const gcd = (a: number, b: number): number => (b === 0 ? a : gcd(b, a % b));

/**
 * N a minute, evenly: the shortest whole-second window holding a whole number of them (30 → 1 every 2 s), so a
 * script cannot spend a whole minute's allowance in its first second. Whole seconds: Redis expiries are in seconds.
 */
export function evenly(perMinute: number): Window {
  const g = gcd(perMinute, 60);
  return { points: perMinute / g, duration: 60 / g };
}

export function limitRules(config: Config): Record<keyof Limits, Rule> {
  return {
    vote: {
      name: 'vote',
      window: evenly(config.VOTE_LIMIT_PER_MINUTE),
      ...(config.VOTE_LIMIT_BURST > 0 ? { burst: { points: config.VOTE_LIMIT_BURST, duration: 60 } } : {}),
    },
    // The whole minute's allowance at once, not evenly: an office reconnecting after a deploy arrives together.
    connect: { name: 'connect', window: { points: config.WS_CONNECT_LIMIT_PER_MINUTE, duration: 60 } },
    createPoll: {
      name: 'create-poll',
      window: { points: config.POLL_CREATE_LIMIT_PER_MINUTE, duration: 60 },
    },
  };
}

type Counter = Pick<BurstyRateLimiter, 'consume'>;
type Make = (name: string, w: Window) => RateLimiterAbstract;

function counter(rule: Rule, make: Make): Counter {
  const main = make(rule.name, rule.window);
  return rule.burst ? new BurstyRateLimiter(main, make(`${rule.name}:burst`, rule.burst)) : main;
}

const refused = (r: RateLimiterRes): Admission => ({ ok: false, retryAfterMs: Math.max(0, r.msBeforeNext) });

/**
 * The shared count, and this instance's own when the shared one fails (what rate-limiter-flexible calls an
 * insurance limiter; done here rather than through its option so the failure can be reported).
 */
class FailOpen implements RateLimit {
  constructor(
    private readonly shared: Counter,
    private readonly local: Counter | null,
    private readonly storeFailed: (err: unknown) => void,
  ) {}

  async take(key: string): Promise<Admission> {
    try {
      await this.shared.consume(key);
      return { ok: true };
    } catch (e) {
      if (e instanceof RateLimiterRes) return refused(e);
      this.storeFailed(e);
    }
    try {
      await this.local?.consume(key);
    } catch (e) {
      if (e instanceof RateLimiterRes) return refused(e);
    }
    return { ok: true };
  }
}

/** The limits, or undefined when ABUSE_LIMITS=off. `redis`: a client of its own (it gets a command timeout). */
export function createLimits(config: Config, log: Pick<Logger, 'warn'>, redis?: Redis): Limits | undefined {
  if (config.ABUSE_LIMITS === 'off') return undefined;
  const storeFailed = atMostEvery(STORE_WARNING_EVERY_MS, (err: unknown) =>
    log.warn(
      { err: String(err) },
      'abuse limits: Redis is failing; each instance counts on its own until it answers again',
    ),
  );
  const memory: Make = (name, w) => new RateLimiterMemory({ keyPrefix: name, ...w });
  const shared: Make = (name, w) =>
    new RateLimiterRedis({
      storeClient: redis,
      keyPrefix: `${config.REDIS_PREFIX}limit:${name}`,
      // Disconnected: answer from the local count at once instead of queueing behind a reconnect.
      rejectIfRedisNotReady: true,
      // A key over its limit is refused here until its window ends: a hammering client costs Redis nothing more.
      inMemoryBlockOnConsumed: w.points + 1,
      ...w,
    });
  const rules = limitRules(config);
  const limit = (rule: Rule): RateLimit =>
    redis
      ? new FailOpen(counter(rule, shared), counter(rule, memory), storeFailed)
      : new FailOpen(counter(rule, memory), null, storeFailed);
  return { vote: limit(rules.vote), connect: limit(rules.connect), createPoll: limit(rules.createPoll) };
}
