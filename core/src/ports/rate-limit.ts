// The RateLimit port: may this key (a voter, a client address) act once more now? Adapters live in server/, so core
// needs no Redis client; an adapter whose store fails answers "allowed" rather than stopping votes.

export type Admission = { ok: true } | { ok: false; retryAfterMs: number };

export interface RateLimit {
  /** Counts one action for `key`; refused when the key is over its limit, with how long until it may act again. */
  take(key: string): Promise<Admission>;
}
