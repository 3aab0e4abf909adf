// Two processes on one Postgres, both timers firing at a quorum poll's close time: the one that extends the poll
// for its quorum wins, and the other, which waited for the lock, finds the close no longer due (it used to close the
// poll at once: "No decision … even after one extension", an extension of no time at all).
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createTestDatabase,
  placeVote,
  RecordingDestinations,
  scheduleNearNow,
  TEST_ANONYMITY_KEY,
  type TestDatabase,
} from '../../testing/index.ts';
import { MemoryBus } from '../adapters/memory-bus.ts';
import { createPgStore } from '../adapters/postgres/pg-store.ts';
import { zonedTime } from '../domain/lunch/schedule-clock.ts';
import { type Core, createCore } from './core.ts';
import { LunchRitual } from './lunch-ritual.ts';
import { createSchedule } from './schedules.ts';

let db: TestDatabase;
const pools: pg.Pool[] = [];
const cores: Core[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const c of cores) c.events.stop();
  for (const p of pools) await p.end();
  await db.drop();
});

describe('the quorum extension, two processes on Postgres', () => {
  it('keeps the one extension when both processes close the poll at its close time', async () => {
    const t = scheduleNearNow(2, 60);
    const open = zonedTime(t.date, t.open_at, t.timezone);
    const close = zonedTime(t.date, t.close_at, t.timezone);
    let clock = new Date(open.getTime() + 1_000);
    const rituals: { ritual: LunchRitual; dest: RecordingDestinations }[] = [];
    for (let n = 0; n < 2; n++) {
      const pool = new pg.Pool({ connectionString: db.url, max: 4 });
      pools.push(pool);
      const core = createCore(
        await createPgStore(pool, { anonymityKey: TEST_ANONYMITY_KEY }),
        new MemoryBus(),
      );
      cores.push(core);
      const dest = new RecordingDestinations();
      rituals.push({ dest, ritual: new LunchRitual({ core, destinations: dest, now: () => clock }) });
    }
    const [a, b] = rituals;
    const core = cores[0] as Core;
    const s = await createSchedule(core, {
      destination: { platform: 'web' },
      weekdays: [1, 2, 3, 4, 5, 6, 7],
      open_at: t.open_at,
      close_at: t.close_at,
      timezone: t.timezone,
      quorum: 3,
      extend_minutes: 10,
    });
    if (!s.ok) throw new Error(s.message);
    await a?.ritual.tick();
    const poll = a?.dest.of('post')[0]?.poll;
    if (!poll) throw new Error('no poll');
    await placeVote(core, poll.id, 1, poll.questions[0]?.options[0]?.id ?? '');
    clock = close;
    await Promise.all([a?.ritual.closeDue(), b?.ritual.closeDue()]);
    const after = await core.polls.getPoll(poll.id);
    const announced = [...(a?.dest.of('announce') ?? []), ...(b?.dest.of('announce') ?? [])];
    expect(announced.map((x) => x.decision?.text)).toEqual([]);
    expect(after?.status).toBe('open');
    expect(after?.closes_at).toBe(new Date(close.getTime() + 10 * 60_000).toISOString());
  });
});
