import type { Snapshot } from '@livevote/core/protocol';
import { describe, expect, it } from 'vitest';
import { MessageUpdater } from './message-updater.ts';

const snap = (version: number) => ({ poll_id: 'p', version }) as Snapshot;

describe('MessageUpdater', () => {
  it('spaces updates of one message from when the platform answered, and ends on the newest snapshot', async () => {
    const sends: { version: number; start: number; end: number }[] = [];
    let started = 0;
    const updater = new MessageUpdater<string>({
      minIntervalMs: 100,
      async send(_m, s) {
        const start = Date.now();
        started++;
        await new Promise((r) => setTimeout(r, 150)); // a slow platform
        sends.push({ version: s.version, start, end: Date.now() });
        return { ok: true };
      },
    });
    updater.offer('m', 'm', snap(1));
    await expect.poll(() => started).toBe(1);
    updater.offer('m', 'm', snap(2));
    updater.offer('m', 'm', snap(3)); // merges with 2 while 1 is in flight: only the newest goes
    await expect.poll(() => sends.at(-1)?.version).toBe(3);
    expect(sends.map((s) => s.version)).toEqual([1, 3]);
    const [first, second] = sends as [(typeof sends)[0], (typeof sends)[0]];
    expect(second.start - first.end).toBeGreaterThanOrEqual(100);
    updater.stop();
  });

  it('waits out a 429 and still sends the final state', async () => {
    const sent: number[] = [];
    let limited = false;
    const updater = new MessageUpdater<string>({
      minIntervalMs: 10,
      async send(_m, s) {
        if (!limited) {
          limited = true;
          return { ok: false, retryAfterMs: 50 };
        }
        sent.push(s.version);
        return { ok: true };
      },
    });
    updater.offer('m', 'm', snap(1));
    await expect.poll(() => limited).toBe(true);
    updater.offer('m', 'm', snap(2));
    await expect.poll(() => sent).toEqual([2]);
    expect(updater.rateLimited).toBe(1);
    updater.stop();
  });
});
