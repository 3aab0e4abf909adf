// The lunch ritual on a real (embedded) store with a controllable clock: a schedule opens its poll once, reminds
// once, closes on time by itself and announces; quorum, tie-breaks and early close; the catalog behind polls.
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  placeVote,
  RecordingDestinations,
  scheduleNearNow,
  TEST_ANONYMITY_KEY,
} from '../../testing/index.ts';
import { MemoryBus } from '../adapters/memory-bus.ts';
import { createPgliteStore } from '../adapters/pglite/pglite-store.ts';
import { DestinationRouter } from '../adapters/web-destinations.ts';
import { zonedTime } from '../domain/lunch/schedule-clock.ts';
import type { Store } from '../ports/store.ts';
import type { CreateScheduleBody, Schedule } from '../protocol/index.ts';
import { addCatalogPlace, catalogOf, updateCatalogPlace } from './catalog.ts';
import { type Core, createCore } from './core.ts';
import { LunchRitual } from './lunch-ritual.ts';
import { closePoll, createPoll } from './manage-polls.ts';
import { createSchedule, runSchedule, updateSchedule } from './schedules.ts';
import { visitHistory } from './visits.ts';

let db: PGlite;
let store: Store;
let core: Core;
let dest: RecordingDestinations;
let clock: Date;
let ritual: LunchRitual;
let workspaceN = 0;
let workspace: string;

beforeAll(async () => {
  db = await PGlite.create();
  store = await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY });
  core = createCore(store, new MemoryBus());
});
afterAll(async () => {
  await ritual?.stop();
  core.events.stop();
  await db.close();
});
beforeEach(async () => {
  await ritual?.stop();
  dest = new RecordingDestinations();
  ritual = new LunchRitual({ core, destinations: dest, now: () => clock, tickMs: 3_600_000 });
  // Each test in its own Teams workspace: its own catalog, schedules and visits.
  workspace = `teams:t${++workspaceN}`;
});

async function schedule(
  extra: Partial<CreateScheduleBody> = {},
): Promise<{ s: Schedule; open: Date; close: Date }> {
  const t = scheduleNearNow(2, 60);
  const r = await createSchedule(core, {
    workspace,
    destination: { platform: 'teams', conversation_id: '19:abc@thread.tacv2' },
    weekdays: [1, 2, 3, 4, 5, 6, 7],
    open_at: t.open_at,
    close_at: t.close_at,
    timezone: t.timezone,
    ...extra,
  });
  if (!r.ok) throw new Error(r.message);
  return {
    s: r.value,
    open: zonedTime(t.date, t.open_at, t.timezone),
    close: zonedTime(t.date, t.close_at, t.timezone),
  };
}
const at = (d: Date, ms: number) => new Date(d.getTime() + ms);
/** This test's calls: the other tests' schedules share the database, and a tick looks at every schedule. */
const mine = <K extends 'post' | 'remind' | 'nudge' | 'announce'>(kind: K) =>
  dest.of(kind).filter((c) => c.destination.workspace === workspace);

/** Ticks just after the opening and answers the poll this test's schedule posted. */
async function posted(open: Date) {
  clock = at(open, 1_000);
  await ritual.tick();
  const poll = mine('post')[0]?.poll;
  if (!poll) throw new Error('no poll');
  return poll;
}

describe('a schedule', () => {
  it('opens exactly one poll a day from the catalog, at its opening, even when ticked again and again', async () => {
    const { s, open } = await schedule();
    clock = at(open, -1_000);
    await ritual.tick();
    expect(mine('post')).toHaveLength(0);
    clock = at(open, 500);
    await Promise.all([ritual.tick(), ritual.tick()]);
    await ritual.tick();
    const other = new LunchRitual({ core, destinations: dest, now: () => clock });
    await other.tick(); // a second instance, or a restart: still one poll
    const posts = mine('post');
    expect(posts).toHaveLength(1);
    const poll = posts[0]?.poll;
    expect(posts[0]?.destination).toEqual({ kind: 'teams', workspace, conversation: '19:abc@thread.tacv2' });
    // Built from the catalog (the starter places), the places' catalog ids are the options' ids.
    const catalog = await catalogOf(core, workspace);
    expect(poll?.questions[0]?.options.map((o) => o.id)).toEqual(catalog.map((p) => p.id));
    expect(poll?.closes_at).toBe(new Date(open.getTime() + 60 * 60_000).toISOString());
    expect((await store.runOfPoll(poll?.id ?? ''))?.schedule_id).toBe(s.id);
  });

  it('opens a missed opening late (the server was down), but not after the close time', async () => {
    const { open, close } = await schedule();
    clock = at(close, 0);
    await ritual.tick();
    expect(mine('post')).toHaveLength(0);
    clock = at(open, 40 * 60_000);
    await ritual.tick();
    expect(mine('post')).toHaveLength(1);
  });

  it('reminds the destination once, N minutes before close, with the current leader', async () => {
    const { open, close } = await schedule({ reminder_minutes: 10 });
    const poll = await posted(open);
    const first = poll.questions[0]?.options[0]?.id ?? '';
    await placeVote(core, poll.id, 1, first);
    clock = at(close, -11 * 60_000);
    await ritual.tick();
    expect(mine('remind')).toHaveLength(0);
    clock = at(close, -9 * 60_000);
    await Promise.all([
      ritual.tick(),
      new LunchRitual({ core, destinations: dest, now: () => clock }).tick(),
    ]);
    clock = at(close, -5 * 60_000);
    await ritual.tick();
    expect(mine('remind')).toHaveLength(1);
    expect(mine('remind')[0]?.leader?.option_id).toBe(first);
    expect(mine('nudge')).toHaveLength(0); // nudges are off by default
  });

  it('nudges regulars who have not voted today, once each, never one who opted out', async () => {
    const { s, open, close } = await schedule({ reminder_minutes: 10, nudges: true });
    // Three earlier days of this schedule: emp 1 and 2 voted twice, emp 3 once, emp 4 twice but opted out.
    const voters = [[1, 2, 4], [1, 2, 3, 4], []];
    for (const [i, emps] of voters.entries()) {
      const day = `2026-01-0${i + 1}`;
      const r = await createPoll(core, { template: 'lunch', workspace }, { kind: 'system', key: 'schedule' });
      if (!r.ok) throw new Error(r.message);
      await store.claimRun(
        { schedule_id: s.id, local_date: day, poll_id: r.value.poll.id, destination: s.destination },
        1,
      );
      for (const emp of emps)
        await placeVote(core, r.value.poll.id, emp, r.value.poll.questions[0]?.options[0]?.id ?? '');
    }
    await store.setReminderOptOut(workspace, 'emp:4', true);
    const poll = await posted(open);
    await placeVote(core, poll.id, 2, poll.questions[0]?.options[0]?.id ?? ''); // emp 2 voted today
    clock = at(close, -5 * 60_000);
    await ritual.tick();
    await ritual.tick();
    expect(mine('nudge').map((n) => n.voter)).toEqual(['emp:1']);
    expect(mine('remind')).toHaveLength(1);
  });

  it('closes its poll by itself at the close time, once, and announces the result once', async () => {
    const { s, open, close } = await schedule();
    const poll = await posted(open);
    const [a, b] = poll.questions[0]?.options ?? [];
    await placeVote(core, poll.id, 1, a?.id ?? '');
    await placeVote(core, poll.id, 2, a?.id ?? '');
    await placeVote(core, poll.id, 3, b?.id ?? '');
    clock = at(close, -1);
    await ritual.closeDue();
    expect((await core.snapshots.fresh(poll.id))?.status).toBe('open');
    clock = close;
    const twin = new LunchRitual({ core, destinations: dest, now: () => clock });
    await Promise.all([ritual.closeDue(), twin.closeDue()]);
    const snapshot = await core.snapshots.fresh(poll.id);
    expect(snapshot?.status).toBe('closed');
    expect(snapshot?.decision).toMatchObject({ reason: 'majority', option_id: a?.id, vote_count: 2 });
    const announced = mine('announce');
    expect(announced).toHaveLength(1);
    expect(announced[0]?.decision?.option_id).toBe(a?.id);
    // The result is a visit in the history, dated in the schedule's time zone.
    const history = await visitHistory(core, workspace, clock, s.timezone);
    expect(history.visits).toEqual([
      expect.objectContaining({ poll_id: poll.id, place_id: a?.id, name: a?.label, votes: 2 }),
    ]);
    expect(history.places.find((p) => p.place_id === a?.id)).toMatchObject({ wins: 1, days_since: 0 });
  });

  it('gives a failed announcement back and makes it at a later tick, after a pause', async () => {
    // This test's destination refuses its first two announcements (a platform outage), and only this test's.
    class Refusing extends RecordingDestinations {
      refusals = 2;
      override async announce(
        d: Parameters<RecordingDestinations['announce']>[0],
        poll: Parameters<RecordingDestinations['announce']>[1],
        result: Parameters<RecordingDestinations['announce']>[2],
      ): Promise<void> {
        if (d.workspace === workspace && this.refusals > 0) {
          this.refusals--;
          throw new Error('destination refused (test)');
        }
        return super.announce(d, poll, result);
      }
    }
    await ritual.stop();
    dest = new Refusing();
    ritual = new LunchRitual({ core, destinations: dest, now: () => clock, tickMs: 3_600_000 });
    const { open, close } = await schedule();
    const poll = await posted(open);
    await placeVote(core, poll.id, 1, poll.questions[0]?.options[0]?.id ?? '');
    clock = close;
    await ritual.closeDue();
    expect(mine('announce')).toHaveLength(0);
    expect((await store.runOfPoll(poll.id))?.announced).toBe(false); // given back, not lost
    clock = at(close, 2_000);
    await ritual.tick(); // within the first pause (5 s): not yet
    expect((dest as Refusing).refusals).toBe(1);
    clock = at(close, 6_000);
    await ritual.tick(); // refused again: the pause doubles (10 s)
    expect((dest as Refusing).refusals).toBe(0);
    clock = at(close, 12_000);
    await ritual.tick();
    expect(mine('announce')).toHaveLength(0);
    clock = at(close, 17_000);
    await ritual.tick();
    await ritual.tick();
    expect(mine('announce')).toHaveLength(1);
    expect((await store.runOfPoll(poll.id))?.announced).toBe(true);
  });

  it('makes the announcement of a process that claimed it and died, once its claim lapsed', async () => {
    const { open, close } = await schedule();
    const poll = await posted(open);
    await placeVote(core, poll.id, 1, poll.questions[0]?.options[0]?.id ?? '');
    // Another process closed the poll and claimed the announcement for 300 ms, then died before sending it.
    const dead = new LunchRitual({ core, destinations: new DestinationRouter(), now: () => clock });
    clock = close;
    await dead.closeDue(); // closes; cannot reach Teams, so it leaves the announcement
    expect(await store.claimRunAnnouncement(poll.id, 300)).toBe(true);
    expect((await store.runOfPoll(poll.id))?.announced).toBe(false); // claimed is not made
    clock = at(close, 1_000);
    await ritual.tick(); // the claim is still live: not ours to make
    expect(mine('announce')).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 350));
    await ritual.tick();
    await ritual.tick();
    expect(mine('announce')).toHaveLength(1);
    expect((await store.runOfPoll(poll.id))?.announced).toBe(true);
    expect(await store.claimRunAnnouncement(poll.id, 300)).toBe(false); // made: never claimed again
  });

  it('leaves a chat destination to a process that can reach it: that one opens and announces', async () => {
    const { open, close } = await schedule();
    const webOnly = new LunchRitual({ core, destinations: new DestinationRouter(), now: () => clock });
    const router = new DestinationRouter();
    router.register('teams', dest);
    const bot = new LunchRitual({ core, destinations: router, now: () => clock });
    clock = at(open, 1_000);
    await webOnly.tick();
    expect(mine('post')).toHaveLength(0);
    await bot.tick();
    const poll = mine('post')[0]?.poll;
    if (!poll) throw new Error('no poll');
    await placeVote(core, poll.id, 1, poll.questions[0]?.options[0]?.id ?? '');
    clock = close;
    await webOnly.closeDue(); // closes it (any process may) but cannot announce to Teams
    expect((await core.snapshots.fresh(poll.id))?.decision?.reason).toBe('majority');
    expect(mine('announce')).toHaveLength(0);
    await bot.tick();
    await bot.tick();
    expect(mine('announce')).toHaveLength(1);
  });

  it('extends a poll below its quorum once, then closes it with no decision', async () => {
    const { open, close } = await schedule({ quorum: 3, extend_minutes: 15 });
    const poll = await posted(open);
    await placeVote(core, poll.id, 1, poll.questions[0]?.options[0]?.id ?? '');
    clock = close;
    await ritual.closeDue();
    const extended = await core.polls.getPoll(poll.id);
    expect(extended?.status).toBe('open');
    expect(extended?.closes_at).toBe(at(close, 15 * 60_000).toISOString());
    expect(mine('announce')).toHaveLength(0);
    clock = at(close, 15 * 60_000);
    await ritual.closeDue();
    const snapshot = await core.snapshots.fresh(poll.id);
    expect(snapshot?.status).toBe('closed');
    expect(snapshot?.decision).toMatchObject({
      outcome: 'no_decision',
      reason: 'quorum_not_met',
      extended: true,
    });
    expect(mine('announce')[0]?.decision?.text).toContain('No decision');
    expect((await visitHistory(core, workspace, clock)).visits).toEqual([]);
  });

  it('closes early when the leader can no longer be caught by the expected voters', async () => {
    const { open } = await schedule({ quorum: 3, early_close: true });
    clock = at(open, 1_000);
    ritual.start();
    await ritual.tick();
    const poll = mine('post')[0]?.poll;
    if (!poll) throw new Error('no poll');
    const a = poll.questions[0]?.options[0]?.id ?? '';
    const b = poll.questions[0]?.options[1]?.id ?? '';
    await placeVote(core, poll.id, 1, a);
    await placeVote(core, poll.id, 2, a);
    // 2 of the 3 expected voters: the third could still make a tie.
    expect((await core.snapshots.fresh(poll.id))?.status).toBe('open');
    await placeVote(core, poll.id, 3, b);
    await expect.poll(async () => (await core.snapshots.fresh(poll.id))?.decision?.reason).toBe('early');
    // The announcement follows the decision's commit by a few reads of its own.
    await expect.poll(() => mine('announce')).toHaveLength(1);
  });

  it('expects the quorum the poll was made with, not one the schedule was given since', async () => {
    const { s, open } = await schedule({ quorum: 3, early_close: true });
    clock = at(open, 1_000);
    ritual.start();
    await ritual.tick();
    const poll = mine('post')[0]?.poll;
    if (!poll) throw new Error('no poll');
    // Raised mid-poll (for tomorrow's): today's poll was made for 3 and decides with 3, so 2–1 of 3 is final.
    expect((await updateSchedule(core, s.id, { quorum: 5 })).ok).toBe(true);
    const [a, b] = [poll.questions[0]?.options[0]?.id ?? '', poll.questions[0]?.options[1]?.id ?? ''];
    await placeVote(core, poll.id, 1, a);
    await placeVote(core, poll.id, 2, a);
    await placeVote(core, poll.id, 3, b);
    await expect.poll(async () => (await core.snapshots.fresh(poll.id))?.decision?.reason).toBe('early');
  });
});

describe('fair decisions on a lunch poll', () => {
  it('gives a tie to the place visited longest ago and says why; else a seeded pick that names its seed', async () => {
    const [p1, p2] = await catalogOf(core, workspace);
    if (!p1 || !p2) throw new Error('no starter places');
    const tiedPoll = async () => {
      const r = await createPoll(
        core,
        { template: 'lunch', workspace, place_ids: [p1.id, p2.id] },
        { kind: 'admin' },
      );
      if (!r.ok) throw new Error(r.message);
      await placeVote(core, r.value.poll.id, 1, p1.id);
      await placeVote(core, r.value.poll.id, 2, p2.id);
      const closed = await closePoll(core, r.value.poll.id, { kind: 'admin' });
      if (!closed.ok) throw new Error(closed.message);
      return closed.value.snapshot.decision;
    };
    // Neither was ever visited: a seeded random pick, its seed printed.
    const first = await tiedPoll();
    expect(first).toMatchObject({ reason: 'random', tied: [p1.id, p2.id] });
    expect(first?.text).toContain(`seed ${first?.seed}`);
    // The winner is now a visit; the next tie goes to the other place, which was never visited.
    const second = await tiedPoll();
    const other = first?.option_id === p1.id ? p2 : p1;
    expect(second).toMatchObject({ reason: 'least_recent', option_id: other.id });
    expect(second?.text).toContain('visited longest ago (never visited)');
    const history = await visitHistory(core, workspace);
    expect(history.visits.map((v) => v.place_id).sort()).toEqual([p1.id, p2.id].sort());
  });

  it('keeps a vote on the place it named, whatever the catalog does meanwhile', async () => {
    const [p1, p2] = await catalogOf(core, workspace);
    if (!p1 || !p2) throw new Error('no starter places');
    const r = await createPoll(
      core,
      { template: 'lunch', workspace, place_ids: [p1.id, p2.id] },
      { kind: 'admin' },
    );
    if (!r.ok) throw new Error(r.message);
    // A place is added before p1 is renamed and deactivated, after the poll (or a chat modal) listed the places.
    await addCatalogPlace(core, workspace, {
      name: 'New place',
      tags: [],
      dietary: [],
      active: true,
      menus: [],
    });
    await updateCatalogPlace(core, workspace, p1.id, { name: `${p1.name} (moved)`, active: false });
    await placeVote(core, r.value.poll.id, 1, p1.id);
    const s = await core.snapshots.fresh(r.value.poll.id);
    expect(s?.place_votes?.find((p) => p.place_id === p1.id)).toMatchObject({
      place_name: p1.name,
      vote_count: 1,
    });
    expect((await catalogOf(core, workspace)).map((p) => p.id)).not.toContain(p1.id);
  });

  it('refuses a lunch poll from places that are not in the workspace’s catalog', async () => {
    const r = await createPoll(
      core,
      { template: 'lunch', workspace, place_ids: ['nope1', 'nope2'] },
      { kind: 'admin' },
    );
    expect(r).toMatchObject({ ok: false, reason: 'unknown_place' });
  });
});

describe('a schedule changed, or a process away, while its poll is open', () => {
  it('still reminds today’s open poll after the schedule is paused (from tomorrow on)', async () => {
    const { s, open, close } = await schedule({ reminder_minutes: 10 });
    const poll = await posted(open);
    await placeVote(core, poll.id, 1, poll.questions[0]?.options[0]?.id ?? '');
    expect((await updateSchedule(core, s.id, { active: false })).ok).toBe(true);
    clock = at(close, -5 * 60_000);
    await ritual.tick();
    expect((await core.polls.getPoll(poll.id))?.status).toBe('open');
    expect(mine('remind')).toHaveLength(1);
    expect(mine('post')).toHaveLength(1); // and opens nothing new
  });

  it('keeps the reminder and the result with the poll when the schedule moves to another conversation', async () => {
    const { s, open, close } = await schedule({ reminder_minutes: 10 });
    const poll = await posted(open);
    await placeVote(core, poll.id, 1, poll.questions[0]?.options[0]?.id ?? '');
    const moved = await updateSchedule(core, s.id, {
      destination: { platform: 'teams', conversation_id: '19:other@thread.tacv2' },
    });
    expect(moved.ok).toBe(true);
    clock = at(close, -5 * 60_000);
    await ritual.tick();
    clock = close;
    await ritual.closeDue();
    for (const kind of ['post', 'remind', 'announce'] as const)
      expect(mine(kind).map((c) => c.destination)).toEqual([
        expect.objectContaining({ conversation: '19:abc@thread.tacv2' }),
      ]);
  });

  it('announces a result still owed the next morning (the only process that reaches Teams was away)', async () => {
    const { open, close } = await schedule();
    const router = new DestinationRouter();
    router.register('teams', dest);
    const bot = new LunchRitual({ core, destinations: router, now: () => clock });
    const webOnly = new LunchRitual({ core, destinations: new DestinationRouter(), now: () => clock });
    clock = at(open, 1_000);
    await bot.tick();
    const poll = mine('post')[0]?.poll;
    if (!poll) throw new Error('no poll');
    await placeVote(core, poll.id, 1, poll.questions[0]?.options[0]?.id ?? '');
    clock = close;
    await webOnly.closeDue();
    expect((await core.snapshots.fresh(poll.id))?.decision?.reason).toBe('majority');
    clock = at(close, 24 * 3_600_000); // the next day: the bot is back
    await bot.tick();
    await bot.tick();
    expect(mine('announce')).toHaveLength(1);
  });
});

describe('a slow post', () => {
  it('holds its run while the platform takes its time, so another process does not post the poll again', async () => {
    const { s, open } = await schedule();
    let release = () => {};
    const held = new Promise<void>((r) => {
      release = r;
    });
    // A platform that takes longer than the run's lease to accept the post (Slack's client waiting out a 429).
    const slow = Object.assign(Object.create(dest) as RecordingDestinations, {
      async postPoll(...args: Parameters<RecordingDestinations['postPoll']>) {
        await held;
        return dest.postPoll(...args);
      },
    });
    const now = at(open, 1_000);
    const leaseMs = 600;
    const first = runSchedule(core, s, { destinations: slow, now, leaseMs });
    await new Promise((r) => setTimeout(r, 3 * leaseMs)); // three leases: it must still hold the run
    const second = await runSchedule(core, s, { destinations: dest, now, leaseMs });
    expect(second).toMatchObject({ ok: true, value: { posted: false } });
    release();
    expect(await first).toMatchObject({ ok: true, value: { posted: true } });
    expect(mine('post')).toHaveLength(1);
  });
});
