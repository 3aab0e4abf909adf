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

const version = (pollId: string, v: number): BusEvent => ({
  type: 'poll_version',
  poll_id: pollId,
  version: v,
  snapshot: { ...snapshot(v), poll_id: pollId },
});

export function busContract(name: string, open: () => Promise<BusFixture>) {
  describe(`Bus contract: ${name}`, () => {
    let fx: BusFixture;
    beforeAll(async () => {
      fx = await open();
      await Promise.all([fx.a.watch('p1'), fx.b.watch('p1')]);
    });
    afterAll(async () => fx?.close());

    it('delivers a published event, unchanged, to subscribers of every instance that watches the poll', async () => {
      const event = version('p1', 7);
      const onA = nextEvents(fx.a, 1);
      const onB = nextEvents(fx.b, 1);
      await fx.a.publish(event);
      expect(await onA).toEqual([event]);
      expect(await onB).toEqual([event]);
    });

    it('keeps the order of one publisher', async () => {
      const got = nextEvents(fx.b, 5);
      for (let v = 1; v <= 5; v++) await fx.a.publish(version('p1', v));
      expect((await got).map((e) => (e.type === 'poll_version' ? e.version : -1))).toEqual([1, 2, 3, 4, 5]);
    });

    it('delivers nothing of a poll nobody watches, and stops when the instance unwatches', async () => {
      const seenByB: string[] = [];
      const off = fx.b.subscribe((e) => seenByB.push(`${e.poll_id}`));
      await fx.a.publish(version('p-nobody', 1)); // nobody watches it
      await fx.a.publish(version('p1', 99)); // b watches p1: its arrival proves b had time to hear both
      await expect.poll(() => seenByB).toContain('p1');
      expect(seenByB).not.toContain('p-nobody');

      await fx.b.watch('p2');
      await fx.b.unwatch('p2');
      expect(fx.b.watching().has('p2')).toBe(false);
      await fx.a.publish(version('p2', 1));
      await fx.a.publish(version('p1', 100));
      await expect.poll(() => seenByB.filter((p) => p === 'p1').length).toBe(2);
      expect(seenByB).not.toContain('p2');
      off();
    });

    it('stops delivering after unsubscribe', async () => {
      let calls = 0;
      const off = fx.b.subscribe(() => {
        calls++;
      });
      off();
      const seen = nextEvents(fx.b, 1);
      await fx.a.publish({ type: 'presence', poll_id: 'p1', instance: 'x', online: 1, voting: 0 });
      await seen;
      expect(calls).toBe(0);
    });

    it('says it is ready', () => {
      expect(fx.a.ready()).toBe(true);
    });
  });
}
