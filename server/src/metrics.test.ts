import type { Core } from '@livevote/core';
import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.ts';

/** A core whose store is down (outbox reads fail) or frozen (they never answer); the rest answers as idle. */
function coreWith(outbox: { outboxDepth(): Promise<number>; outboxParked(): Promise<number> }): Core {
  return {
    outbox,
    bus: { watching: () => new Set<string>() },
    events: { publishes: 3 },
  } as unknown as Core;
}

describe('/metrics', () => {
  it('reads the outbox gauges from the store', async () => {
    const m = new Metrics();
    m.attach({ core: coreWith({ outboxDepth: async () => 7, outboxParked: async () => 1 }) });
    const text = await m.registry.metrics();
    expect(text).toMatch(/^livevote_outbox_pending 7$/m);
    expect(text).toMatch(/^livevote_outbox_parked 1$/m);
  });

  it('still answers every other metric while the store is down or frozen: its gauges are NaN', async () => {
    for (const outbox of [
      { outboxDepth: () => Promise.reject(new Error('ECONNREFUSED')), outboxParked: async () => 0 },
      { outboxDepth: () => new Promise<number>(() => {}), outboxParked: () => new Promise<number>(() => {}) },
    ]) {
      const m = new Metrics();
      m.attach({ core: coreWith(outbox) });
      const text = await m.registry.metrics();
      expect(text).toMatch(/^livevote_outbox_pending NaN$/im); // prom-client writes "Nan"; Prometheus reads it
      expect(text).toMatch(/^livevote_bus_publishes_total 3$/m);
      expect(text).toMatch(/^livevote_process_cpu_user_seconds_total /m);
    }
  });
});
