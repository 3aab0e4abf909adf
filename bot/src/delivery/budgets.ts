// Rate-limit budgets for chat calls, on rate-limiter-flexible: in memory for one process, over Redis when several
// bot processes share a workspace's allowance (Slack counts calls per workspace and method, whoever makes them).
import {
  type RateLimiterAbstract,
  RateLimiterMemory,
  RateLimiterRedis,
  RateLimiterRes,
} from 'rate-limiter-flexible';
import type { Budget } from './contract.ts';

export type Taken = { ok: true } | { ok: false; retryAfterMs: number };

export interface BudgetLimiter {
  /** Spends one point of each budget, all or none: refused when any is spent, with how long until it refills. */
  take(budgets: Budget[]): Promise<Taken>;
  /**
   * The platform said 429: nobody spends these budgets for `ms` (Slack throttles the workspace × method, not one
   * message), on every process sharing them.
   */
  pause(budgets: Budget[], ms: number): Promise<void>;
}

/** Makes the limiter for one window shape; `name` is unique per shape. */
export type MakeLimiter = (name: string, points: number, durationSec: number) => RateLimiterAbstract;

export const memoryLimiters: MakeLimiter = (name, points, duration) =>
  new RateLimiterMemory({ keyPrefix: `delivery:${name}`, points, duration });

/**
 * Over Redis, with an in-memory limiter of the same shape as insurance: if Redis fails, each process keeps to the
 * budget on its own (never worse than one process's full allowance) instead of stopping chat updates.
 */
export const redisLimiters =
  // biome-ignore lint/suspicious/noExplicitAny: rate-limiter-flexible takes ioredis or node-redis clients
    (storeClient: any, prefix: string): MakeLimiter =>
    (name, points, duration) =>
      new RateLimiterRedis({
        storeClient,
        keyPrefix: `${prefix}delivery:${name}`,
        points,
        duration,
        rejectIfRedisNotReady: true,
        insuranceLimiter: memoryLimiters(name, points, duration),
      });

export class RateLimiterBudgets implements BudgetLimiter {
  private readonly limiters = new Map<string, RateLimiterAbstract>();

  constructor(private readonly make: MakeLimiter = memoryLimiters) {}

  private limiter(b: Budget): RateLimiterAbstract {
    // Redis expiries are whole seconds: a budget shorter than a second is counted per second.
    const duration = Math.max(1, Math.round(b.durationMs / 1000));
    const name = `${b.points}-${duration}`;
    let l = this.limiters.get(name);
    if (!l) {
      l = this.make(name, b.points, duration);
      this.limiters.set(name, l);
    }
    return l;
  }

  async take(budgets: Budget[]): Promise<Taken> {
    const spent: Budget[] = [];
    for (const b of budgets) {
      try {
        await this.limiter(b).consume(b.key);
        spent.push(b);
      } catch (e) {
        // Give back what this call took from the other budgets: it is not made.
        await Promise.all(
          spent.map((s) =>
            this.limiter(s)
              .reward(s.key, 1)
              .catch(() => undefined),
          ),
        );
        if (e instanceof RateLimiterRes) return { ok: false, retryAfterMs: Math.max(1, e.msBeforeNext) };
        throw e;
      }
    }
    return { ok: true };
  }

  async pause(budgets: Budget[], ms: number): Promise<void> {
    const seconds = Math.max(1, Math.ceil(ms / 1000));
    await Promise.all(
      budgets.map((b) =>
        this.limiter(b)
          .block(b.key, seconds)
          .catch(() => undefined),
      ),
    );
  }
}
