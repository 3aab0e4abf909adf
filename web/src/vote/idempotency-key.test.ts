import { describe, expect, it } from 'vitest';
import { newIdempotencyKey } from './idempotency-key.ts';

describe('newIdempotencyKey', () => {
  it('needs only getRandomValues (no randomUUID, as on a plain-http page), and never repeats', () => {
    const insecure = { getRandomValues: crypto.getRandomValues.bind(crypto) };
    expect('randomUUID' in insecure).toBe(false);
    const keys = new Set(Array.from({ length: 1_000 }, () => newIdempotencyKey(insecure)));
    expect(keys.size).toBe(1_000);
    for (const k of keys) expect(k).toMatch(/^[0-9a-f]{32}$/);
  });
});
