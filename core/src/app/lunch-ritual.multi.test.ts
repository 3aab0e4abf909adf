// Three instances (three cores, each with its own pool, bus and chat destinations) on one real Postgres, one schedule,
// real timers: exactly one poll is posted, it closes by itself on time (±5 s), and exactly one close is announced.
// The instances' clock runs a few seconds before the schedule's close time (the opening came "while they were
// down"), so the test waits seconds, not minutes.
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
import type { CreateScheduleBody } from '../protocol/index.ts';
import { type Core, createCore } from './core.ts';
import { LunchRitual } from './lunch-ritual.ts';
import { createSchedule } from './schedules.ts';

let db: TestDatabase;
const pools: pg.Pool[] = [];
const instances: { core: Core; dest: RecordingDestinations; ritual: LunchRitual }[] = [];

beforeAll(async () => {
  db = await createTestDatabase();
});
afterAll(async () => {
  for (const i of instances) {
    await i.ritual.stop();
    i.core.events.stop();
  }
  for (const p of pools) await p.end();
  await db.drop();
});

/** One more instance: its own pool, store, bus, destinations and ritual, on the shared database. */
async function instance(now: () => Date, tickMs?: number) {
  const pool = new pg.Pool({ connectionString: db.url, max: 4 });
  pools.push(pool);
  const core = createCore(await createPgStore(pool, { anonymityKey: TEST_ANONYMITY_KEY }), new MemoryBus());
  const dest = new RecordingDestinations();
  const i = {
    core,
    dest,
    ritual: new LunchRitual({ core, destinations: dest, now, ...(tickMs ? { tickMs } : {}) }),
  };
  instances.push(i);
  return i;
}

/** A web schedule running every day at the times `t` gives. */
async function everyDay(
  core: Core,
  t: ReturnType<typeof scheduleNearNow>,
  extra: Partial<CreateScheduleBody> = {},
): Promise<void> {
  const created = await createSchedule(core, {
    destination: { platform: 'web' },
    weekdays: [1, 2, 3, 4, 5, 6, 7],
    open_at: t.open_at,
    close_at: t.close_at,
    timezone: t.timezone,
    ...extra,
  });
  if (!created.ok) throw new Error(created.message);
}

describe('three instances on one schedule', () => {
  it('post one poll, close it by itself on time and announce it once', async () => {
    const t = scheduleNearNow(3, 1);
    const close = zonedTime(t.date, t.close_at, t.timezone);
    // Every instance's clock: 4 s before the close time from now on.
    const offset = close.getTime() - 4_000 - Date.now();
    const now = () => new Date(Date.now() + offset);
    for (let n = 0; n < 3; n++) await instance(now, 300);
    const [first] = instances;
    if (!first) throw new Error('no instances');
    await everyDay(first.core, t);
    for (const i of instances) i.ritual.start();

    const posts = () => instances.flatMap((i) => i.dest.of('post'));
    await expect.poll(() => posts().length, { timeout: 3_000 }).toBe(1);
    const poll = posts()[0]?.poll;
    if (!poll) throw new Error('no poll');
    const place = poll.questions[0]?.options[1]?.id ?? '';
    await placeVote(first.core, poll.id, 1, place);
    await placeVote(instances[2]?.core as Core, poll.id, 2, place);

    const announced = () => instances.flatMap((i) => i.dest.of('announce'));
    await expect.poll(() => announced().length, { timeout: 15_000, interval: 100 }).toBe(1);
    const rows = await pools[0]?.query<{ closed_at: Date }>('select closed_at from polls where id = $1', [
      poll.id,
    ]);
    const closedAt = (rows?.rows[0]?.closed_at.getTime() ?? 0) + offset; // the database's clock, moved like ours
    const late = closedAt - close.getTime();
    console.log(`closed ${late} ms after its close time`);
    expect(Math.abs(late)).toBeLessThanOrEqual(5_000);
    expect(announced()[0]?.decision).toMatchObject({ reason: 'majority', option_id: place, vote_count: 2 });
    // A while later, still one of each: nobody re-posts or re-announces.
    await new Promise((r) => setTimeout(r, 1_000));
    expect(posts()).toHaveLength(1);
    expect(announced()).toHaveLength(1);
    expect((await pools[0]?.query('select 1 from polls'))?.rowCount).toBe(1);
    for (const i of instances) await i.ritual.stop(); // their clocks are not the next test's
  });
});

// Both timers firing at a quorum poll's close time: the one that extends the poll for its quorum wins, and the other,
// which waited for the lock, finds the close no longer due (it used to close the poll at once: "No decision … even
// after one extension", an extension of no time at all).
describe('the quorum extension, two instances at the close time', () => {
  it('keeps the one extension when both close the poll at its close time', async () => {
    const t = scheduleNearNow(2, 60);
    const open = zonedTime(t.date, t.open_at, t.timezone);
    const close = zonedTime(t.date, t.close_at, t.timezone);
    let clock = new Date(open.getTime() + 1_000);
    const a = await instance(() => clock);
    const b = await instance(() => clock);
    await everyDay(a.core, t, { quorum: 3, extend_minutes: 10 });
    await a.ritual.tick();
    const poll = a.dest.of('post')[0]?.poll;
    if (!poll) throw new Error('no poll');
    await placeVote(a.core, poll.id, 1, poll.questions[0]?.options[0]?.id ?? '');
    clock = close;
    await Promise.all([a.ritual.closeDue(), b.ritual.closeDue()]);
    const after = await a.core.polls.getPoll(poll.id);
    expect([...a.dest.of('announce'), ...b.dest.of('announce')].map((x) => x.decision?.text)).toEqual([]);
    expect(after?.status).toBe('open');
    expect(after?.closes_at).toBe(new Date(close.getTime() + 10 * 60_000).toISOString());
  });
});
