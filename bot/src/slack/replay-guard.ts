// Slack signs every request over its timestamp and body; Bolt checks the signature and that the timestamp is less
// than five minutes old, but takes the same signed request as often as it arrives. Replayed within those minutes, a
// captured `/vote` would make a second poll. This guard, in front of Bolt, lets each signature through once; a
// replay gets 200 with an empty body (so Slack never retries it) and nothing runs. Slack's own retries carry a new
// timestamp, hence a new signature, and a retry number: they pass, and idempotency keys make a retried click count
// once.
import { isValidSlackRequest } from '@slack/bolt';
import express, { type RequestHandler } from 'express';

/** Bolt refuses a request whose timestamp is older than this. */
const WINDOW_MS = 5 * 60_000;
/** Remembered a little longer than the window, for clock skew and the request's trip. */
const MARGIN_MS = 60_000;
/** A Redis answer slower than this does not hold up Slack's 3-second ack: the local memory decides alone. */
const SHARED_TIMEOUT_MS = 500;

export interface OnceStore {
  /** True the first time `key` is claimed within `ttlMs`, false for every later claim until then. */
  claim(key: string, ttlMs: number): Promise<boolean>;
}

/** This process's memory of claimed keys: each forgotten when its time is up, and at most `max` (oldest first). */
export class MemoryOnce implements OnceStore {
  private readonly until = new Map<string, number>();

  constructor(
    private readonly max = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  async claim(key: string, ttlMs: number): Promise<boolean> {
    const t = this.now();
    // Keys go in roughly in expiry order: drop expired ones from the oldest end until one is still live.
    for (const [k, until] of this.until) {
      if (until > t) break;
      this.until.delete(k);
    }
    const known = this.until.get(key);
    if (known !== undefined && known > t) return false;
    this.until.delete(key);
    this.until.set(key, t + ttlMs);
    if (this.until.size > this.max) this.until.delete(this.until.keys().next().value as string);
    return true;
  }

  size(): number {
    return this.until.size;
  }
}

/**
 * Local memory first (a replay to this instance is refused without a round trip), then a store every instance
 * shares (Redis SET NX PX), so a replay sent to another instance is refused too. When the shared store fails or is
 * slow, the request goes through on the local verdict: a Redis outage must not stop Slack.
 */
export function layeredOnce(
  local: OnceStore,
  shared: OnceStore,
  onSharedError: (err: unknown) => void,
): OnceStore {
  return {
    async claim(key, ttlMs) {
      if (!(await local.claim(key, ttlMs))) return false;
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        return await Promise.race([
          shared.claim(key, ttlMs),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => reject(new Error('shared replay store too slow')), SHARED_TIMEOUT_MS);
          }),
        ]);
      } catch (err) {
        onSharedError(err);
        return true;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

/** Middleware for Slack's endpoint, in front of Bolt's receiver. */
export function slackReplayGuard(o: {
  signingSecret: string;
  once: OnceStore;
  now?: () => number;
}): RequestHandler[] {
  const now = o.now ?? Date.now;
  return [
    express.raw({ type: () => true, limit: '1mb' }),
    async (req, res, next) => {
      const signature = req.get('x-slack-signature');
      const timestamp = Number(req.get('x-slack-request-timestamp'));
      const body: unknown = req.body;
      if (!Buffer.isBuffer(body)) return next();
      // Bolt verifies and parses this instead of reading the stream we consumed.
      (req as { rawBody?: Buffer }).rawBody = body;
      if (!signature || !Number.isSafeInteger(timestamp)) return next(); // Bolt answers 401
      const valid = isValidSlackRequest({
        signingSecret: o.signingSecret,
        body: body.toString(),
        headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': timestamp },
        nowMilliseconds: now(),
      });
      // Only a genuine request is remembered (forged ones cannot crowd out real ones); Bolt answers the rest 401.
      if (!valid) return next();
      const ttlMs = Math.max(timestamp * 1000 + WINDOW_MS - now(), 0) + MARGIN_MS;
      // Slack signs a retry anew, but one sent within the same second as the failed delivery (a fast 500) has the
      // same timestamp, hence the same signature: its retry number tells it apart. A replay of it is still refused,
      // and one signature acts at most ten times whatever number a replayer puts in the (unsigned) header.
      const retry = /^[1-9]$/.test(req.get('x-slack-retry-num') ?? '') ? req.get('x-slack-retry-num') : '0';
      if (await o.once.claim(`slack:${signature}:${retry}`, ttlMs)) return next();
      res.status(200).end();
    },
  ];
}
