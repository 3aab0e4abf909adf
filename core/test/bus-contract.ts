// The Bus contract, run against the in-process bus and the Redis bus.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bus, BusEvent } from '../src/ports/bus.ts';
import type { Snapshot } from '../src/protocol/index.ts';

export interface BusFixture {
  /** Two handles on the same bus, as two instances would have (the in-process bus gives the same one twice). */
  a: Bus;
  b: Bus;
  close(): Promise<void>;
}

const snapshot = (version: number): Snapshot => ({
  poll_id: 'p1',
  version,
  status: 'open',
  results_hidden: false,
  total_voters: 1,
  leader: null,
  questions: [
    {
      question_id: 'q1',
      kind: 'choice',
      voters: 1,
      leader: 'o1',
      options: [{ option_id: 'o1', label: '김밥', vote_count: 1 }],
    },
  ],
});

const nextEvents = (bus: Bus, n: number) =>
  new Promise<BusEvent[]>((resolve) => {
    const got: BusEvent[] = [];
    const off = bus.subscribe((e) => {
      got.push(e);
      if (got.length === n) {
        off();
        resolve(got);
      }
    });
  });

export function busContract(name: string, open: () => Promise<BusFixture>) {
  describe(`Bus contract: ${name}`, () => {
    let fx: BusFixture;
    beforeAll(async () => {
      fx = await open();
    });
    afterAll(async () => fx?.close());

    it('delivers a published event, unchanged, to subscribers of every instance', async () => {
      const event: BusEvent = { type: 'poll_version', poll_id: 'p1', version: 7, snapshot: snapshot(7) };
      const onA = nextEvents(fx.a, 1);
      const onB = nextEvents(fx.b, 1);
      await fx.a.publish(event);
      expect(await onA).toEqual([event]);
      expect(await onB).toEqual([event]);
    });

    it('keeps the order of one publisher', async () => {
      const got = nextEvents(fx.b, 5);
      for (let v = 1; v <= 5; v++)
        await fx.a.publish({ type: 'poll_version', poll_id: 'p1', version: v, snapshot: snapshot(v) });
      expect((await got).map((e) => (e.type === 'poll_version' ? e.version : -1))).toEqual([1, 2, 3, 4, 5]);
    });

    it('stops delivering after unsubscribe', async () => {
      let calls = 0;
      const off = fx.b.subscribe(() => {
        calls++;
      });
      off();
      const seen = nextEvents(fx.b, 1);
      await fx.a.publish({ type: 'poll_changed', poll_id: 'p2' });
      await seen;
      expect(calls).toBe(0);
    });

    it('says it is ready', () => {
      expect(fx.a.ready()).toBe(true);
    });
  });
}
