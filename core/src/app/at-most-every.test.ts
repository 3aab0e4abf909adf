import { describe, expect, it } from 'vitest';
import { atMostEvery } from './at-most-every.ts';

describe('atMostEvery', () => {
  it('runs the first call, drops calls within the interval, and runs again once it has passed', () => {
    let t = 1_000;
    const seen: string[] = [];
    const warn = atMostEvery(
      60_000,
      (what: string) => seen.push(what),
      () => t,
    );
    warn('a');
    t += 59_999;
    warn('b');
    t += 1;
    warn('c');
    expect(seen).toEqual(['a', 'c']);
  });
});
