// Anonymous polls keep no voter identity: where a ballot or an idempotency row would hold a voter key or a delivery
// id, the store keeps HMAC-SHA256(k_poll, value) instead, with k_poll = HMAC-SHA256(secret, poll id).
//
// Why this shape:
// - Stable within a poll, so one person still has one ballot (changing and taking back a vote find it), but different
//   in every other poll, so two polls' rows cannot be joined on it, and without the secret it cannot be reversed even
//   though employee numbers are few enough to try them all.
// - Postgres has no hmac() without pgcrypto (an extension neither our Postgres nor PGlite has loaded), but it has
//   sha256(). HMAC is two sha256 calls over the key's inner and outer pads (RFC 2104), so this process derives the
//   poll's key and hands Postgres only those pads (`livevote.poll_keys`, transaction-local); lv_anon finishes the
//   HMAC there. That keeps the order right — lv_voter_key resolves the directory in SQL, then the result is hashed —
//   and a vote one round trip. The secret itself never leaves this process; Postgres sees one poll's key at a time.
import { createHmac } from 'node:crypto';

/** Shortest accepted secret (characters). */
export const ANONYMITY_KEY_MIN_LENGTH = 32;

const CONTEXT = 'livevote/anonymous-poll/v1';
const BLOCK = 64; // SHA-256's block size
const CACHE_LIMIT = 10_000;

/** The stored form of a value of an anonymous poll: `anon:` and 64 hex digits. */
export const ANON_PREFIX = 'anon:';

/** What a hashed value stands for; part of the hashed text, so a voter key and a delivery id never hash alike. */
export type AnonKind = 'voter' | 'key';

export class PollKeys {
  private readonly pads = new Map<string, string>();

  constructor(private readonly secret: string) {
    if (secret.length < ANONYMITY_KEY_MIN_LENGTH)
      throw new Error(`the anonymity key must be at least ${ANONYMITY_KEY_MIN_LENGTH} characters`);
  }

  private pollKey(pollId: string): Buffer {
    return createHmac('sha256', this.secret).update(`${CONTEXT}\x1f${pollId}`).digest();
  }

  /** The poll key's inner and outer pads, hex: what lv_anon needs to compute HMAC(k_poll, ·) with sha256(). */
  private padsOf(pollId: string): string {
    let hex = this.pads.get(pollId);
    if (hex === undefined) {
      const key = Buffer.alloc(BLOCK);
      this.pollKey(pollId).copy(key);
      const inner = key.map((b) => b ^ 0x36);
      const outer = key.map((b) => b ^ 0x5c);
      hex = Buffer.concat([inner, outer]).toString('hex');
      if (this.pads.size >= CACHE_LIMIT) this.pads.clear();
      this.pads.set(pollId, hex);
    }
    return hex;
  }

  /** The `livevote.poll_keys` setting for a statement touching these polls: poll id → pads. */
  setting(pollIds: Iterable<string>): string {
    const out: Record<string, string> = {};
    for (const id of pollIds) out[id] = this.padsOf(id);
    return JSON.stringify(out);
  }

  /** The stored form of `value`, computed here as lv_anon computes it in SQL (the tests hold the two together). */
  hash(pollId: string, kind: AnonKind, value: string): string {
    return `${ANON_PREFIX}${createHmac('sha256', this.pollKey(pollId)).update(`${kind}\x1f${value}`).digest('hex')}`;
  }
}
