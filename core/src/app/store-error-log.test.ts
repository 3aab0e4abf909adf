import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { storeError } from '../adapters/sql/store-errors.ts';
import { StoreErrorLog } from './store-error-log.ts';

const refused = () =>
  storeError(Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }));

describe('StoreErrorLog', () => {
  let lines: { obj: Record<string, unknown>; msg?: string; at: number }[];
  let log: StoreErrorLog;
  beforeEach(() => {
    vi.useFakeTimers();
    lines = [];
    log = new StoreErrorLog(
      { warn: (obj, msg) => lines.push({ obj: obj as Record<string, unknown>, msg, at: Date.now() }) },
      1_000,
    );
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('writes one line per second during an outage, each counting the failures it folds in', () => {
    expect(log.report(refused(), 'vote')).toBe(true);
    for (let i = 0; i < 99; i++) log.report(refused(), 'vote');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ msg: 'store unavailable', obj: { during: 'vote', suppressed: 0 } });
    vi.advanceTimersByTime(1_000);
    expect(lines).toHaveLength(2);
    expect(lines[1]?.obj).toMatchObject({ suppressed: 98, error: { code: 'ECONNREFUSED' } });
    // Five more seconds of failures, 50 a second: five more lines, and every failure is accounted for.
    for (let s = 0; s < 5; s++) {
      for (let i = 0; i < 50; i++) {
        log.report(refused(), 'ws join');
        vi.advanceTimersByTime(20);
      }
    }
    vi.advanceTimersByTime(2_000);
    expect(lines.length).toBeLessThanOrEqual(2 + 6);
    const accounted = lines.reduce((n, l) => n + 1 + Number(l.obj.suppressed), 0);
    expect(accounted).toBe(100 + 250);
    expect(log.outages).toBe(350);
    // Lines are at least a second apart, and carry no stack.
    for (let i = 1; i < lines.length; i++)
      expect((lines[i]?.at ?? 0) - (lines[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    expect(lines.every((l) => l.obj.error && !('stack' in (l.obj.error as object)))).toBe(true);
  });

  it('logs a failure that is not an outage at once, with its stack, and says so', () => {
    expect(log.report(new TypeError('x is undefined'), 'closing due polls failed')).toBe(false);
    expect(log.report(new TypeError('x is undefined'), 'closing due polls failed')).toBe(false);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      msg: 'closing due polls failed',
      obj: { error: { type: 'TypeError' } },
    });
    expect(log.outages).toBe(0);
  });

  it('after a quiet interval, the next failure is logged at once again', () => {
    log.report(refused(), 'vote');
    vi.advanceTimersByTime(5_000);
    log.report(refused(), 'vote');
    expect(lines).toHaveLength(2);
    expect(lines[1]?.obj.suppressed).toBe(0);
  });
});
