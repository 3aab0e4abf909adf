import type { ChatMessage } from '@livevote/core';
import type { Snapshot } from '@livevote/core/protocol';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { RateLimiterBudgets } from './budgets.ts';
import type { Budget, ChatPlatform, Outcome } from './contract.ts';
import { DeliveryEngine, messageKey } from './delivery-engine.ts';

const snap = (poll: string, version: number, status: 'open' | 'closed' = 'open') =>
  ({ poll_id: poll, version, status }) as Snapshot;
const msg = (poll: string, channel = 'C1', team = 'T1'): ChatMessage => ({
  platform: 'slack',
  channel,
  message_id: `ts-${poll}`,
  poll_id: poll,
  meta: { team },
});

/** Slack's Tier 3 for chat.update as the Slack platform declares it: ≤ 50 in any minute per workspace. */
const SLACK_UPDATE: Omit<Budget, 'key'> = { points: 10, durationMs: 15_000 };

class FakePlatform implements ChatPlatform {
  readonly name = 'slack' as const;
  readonly updates: { key: string; version: number; at: number }[] = [];
  readonly replies: string[] = [];
  readonly told: string[] = [];
  /** Answers for the next update calls, in order; then ok. */
  script: Outcome[] = [];
  replyScript: Outcome[] = [];
  budgets(m: ChatMessage): Budget[] {
    return [{ key: `slack:${m.meta.team}:chat.update`, ...SLACK_UPDATE }];
  }
  async update(m: ChatMessage, s: Snapshot): Promise<Outcome> {
    this.updates.push({ key: messageKey(m), version: s.version, at: Date.now() });
    return this.script.shift() ?? { ok: true };
  }
  async announceWinner(m: ChatMessage): Promise<Outcome> {
    this.replies.push(messageKey(m));
    return this.replyScript.shift() ?? { ok: true };
  }
  async tellCreator(m: ChatMessage, reason: string): Promise<Outcome> {
    this.told.push(`${messageKey(m)} ${reason}`);
    return { ok: true };
  }
}

/** The store's claims, in memory, as the SQL store makes them. */
function claims() {
  const versions = new Map<string, { v: number; by: string }>();
  const gone = new Set<string>();
  const claimed = new Map<string, string>();
  /** Winner replies made, and the owners whose claims lapsed (their process died: the poll's lease went). */
  const made = new Set<string>();
  const lapsed = new Set<string>();
  return {
    gone,
    made,
    lapsed,
    async claimMessageVersion(m: ChatMessage, v: number, by: string) {
      const k = messageKey(m);
      const cur = versions.get(k);
      if (gone.has(k) || (cur && (cur.v > v || (cur.v === v && cur.by !== by && !lapsed.has(cur.by)))))
        return false;
      versions.set(k, { v, by });
      return true;
    },
    async claimAnnouncement(m: ChatMessage, owner: string) {
      const k = messageKey(m);
      const by = claimed.get(k);
      if (made.has(k) || gone.has(k) || (by && by !== owner && !lapsed.has(by))) return false;
      claimed.set(k, owner);
      return true;
    },
    async announcementMade(m: ChatMessage) {
      made.add(messageKey(m));
    },
    async markMessageGone(m: ChatMessage) {
      const k = messageKey(m);
      if (gone.has(k)) return false;
      gone.add(k);
      return true;
    },
  };
}

/** n retryable failures in a row, as a platform answers them during an outage. */
const retries = (n: number, reason: string): Outcome[] =>
  Array.from({ length: n }, () => ({ ok: false, kind: 'retry', reason }));

const log = { warn: vi.fn(), info: vi.fn() };
function engine(platform: FakePlatform, store = claims(), owner = 'me') {
  return new DeliveryEngine({
    platform: () => platform,
    budgets: new RateLimiterBudgets(),
    store,
    owner,
    random: () => 0.5,
    log,
  });
}

describe('DeliveryEngine', () => {
  beforeEach(() => vi.useFakeTimers({ now: new Date('2026-12-01T03:00:00Z') }));
  afterEach(() => vi.useRealTimers());

  it('keeps 3 busy polls of one workspace within 50 chat.update calls a minute, each ending on its final tally', async () => {
    const platform = new FakePlatform();
    const e = engine(platform);
    const polls = ['a', 'b', 'c'];
    // 100 clicks per poll over 25 s: a new version every 250 ms for each poll, the last one closes it.
    for (let v = 1; v <= 100; v++) {
      for (const p of polls) e.offer(msg(p), snap(p, v, v === 100 ? 'closed' : 'open'));
      await vi.advanceTimersByTimeAsync(250);
    }
    await vi.advanceTimersByTimeAsync(120_000);
    const times = platform.updates.map((u) => u.at);
    for (const t of times)
      expect(times.filter((x) => x >= t && x < t + 60_000).length).toBeLessThanOrEqual(50);
    for (const p of polls) {
      const mine = platform.updates.filter((u) => u.key === messageKey(msg(p)));
      expect(mine.at(-1)?.version).toBe(100);
      // and never more than one update a second for one message
      for (let i = 1; i < mine.length; i++)
        expect((mine[i]?.at ?? 0) - (mine[i - 1]?.at ?? 0)).toBeGreaterThanOrEqual(1_000);
    }
    // the workspace's allowance was used, not wasted: at least 10 updates per 15 s window while busy
    expect(platform.updates.length).toBeGreaterThanOrEqual(20);
    expect(platform.replies.sort()).toEqual(polls.map((p) => messageKey(msg(p))).sort());
  });

  it('gives each workspace its own allowance', async () => {
    const platform = new FakePlatform();
    const e = engine(platform);
    for (let v = 1; v <= 30; v++) {
      e.offer(msg('a', 'C1', 'T1'), snap('a', v));
      e.offer(msg('b', 'C2', 'T2'), snap('b', v));
      await vi.advanceTimersByTimeAsync(1_000);
    }
    const of = (p: string) =>
      platform.updates.filter((u) => u.key === messageKey(msg(p, p === 'a' ? 'C1' : 'C2')));
    // 30 s at 1 update/s would be 30 each; the budget (10 per 15 s) allows 20 each, for each workspace alike
    expect(of('a').length).toBe(of('b').length);
    expect(of('a').length).toBeGreaterThanOrEqual(19);
  });

  it('stops at a permanent error on the first attempt, marks the message gone and tells the creator once', async () => {
    const platform = new FakePlatform();
    const store = claims();
    const e = engine(platform, store);
    platform.script = [{ ok: false, kind: 'permanent', reason: 'is_archived' }];
    e.offer(msg('a'), snap('a', 1));
    await vi.advanceTimersByTimeAsync(10);
    for (let v = 2; v < 10; v++) e.offer(msg('a'), snap('a', v));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(platform.updates).toHaveLength(1);
    expect(store.gone.has(messageKey(msg('a')))).toBe(true);
    expect(platform.told).toEqual([`${messageKey(msg('a'))} is_archived`]);
    expect(e.destinations().get('slack:C1')?.dropped).toBe(1);
  });

  it('obeys Retry-After on a 429 and backs off exponentially on other retryable errors, ending on the newest state', async () => {
    const platform = new FakePlatform();
    const e = engine(platform);
    platform.script = [
      { ok: false, kind: 'retry', reason: 'ratelimited', retryAfterMs: 7_000, rateLimited: true },
      { ok: false, kind: 'retry', reason: 'http 502' },
      { ok: false, kind: 'retry', reason: 'http 502' },
    ];
    e.offer(msg('a'), snap('a', 1));
    await vi.advanceTimersByTimeAsync(10);
    e.offer(msg('a'), snap('a', 2));
    await vi.advanceTimersByTimeAsync(60_000);
    const gaps = platform.updates.slice(1).map((u, i) => u.at - (platform.updates[i]?.at ?? 0));
    expect(gaps[0]).toBeGreaterThanOrEqual(7_000); // Retry-After
    expect(gaps[1]).toBeGreaterThanOrEqual(750); // 1 s ± jitter
    expect(gaps[2]).toBeGreaterThanOrEqual(1_500); // doubled
    expect(gaps[2]).toBeGreaterThan(gaps[1] ?? 0);
    expect(platform.updates.at(-1)?.version).toBe(2);
    expect(e.destinations().get('slack:C1')).toMatchObject({ rateLimited: 1, retried: 3, sent: 1 });
  });

  it('holds every message of the workspace back on a 429, not only the one that got it', async () => {
    const platform = new FakePlatform();
    const e = engine(platform);
    platform.script = [
      { ok: false, kind: 'retry', reason: 'ratelimited', retryAfterMs: 7_000, rateLimited: true },
    ];
    e.offer(msg('a'), snap('a', 1));
    await vi.advanceTimersByTimeAsync(10);
    const limitedAt = Date.now();
    e.offer(msg('b'), snap('b', 1)); // same workspace, another message
    await vi.advanceTimersByTimeAsync(30_000);
    const b = platform.updates.find((u) => u.key === messageKey(msg('b')));
    expect((b?.at ?? 0) - limitedAt).toBeGreaterThanOrEqual(6_000);
  });

  it('gives up after the attempts cap, and a newer state tries again', async () => {
    const platform = new FakePlatform();
    const e = engine(platform);
    platform.script = retries(11, '5xx');
    e.offer(msg('a'), snap('a', 1));
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(platform.updates).toHaveLength(11); // the first try and 10 retries
    expect(e.destinations().get('slack:C1')?.dropped).toBe(1);
    e.offer(msg('a'), snap('a', 2));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(platform.updates.at(-1)?.version).toBe(2);
  });

  it('never sends a version another process claimed', async () => {
    const platform = new FakePlatform();
    const store = claims();
    await store.claimMessageVersion(msg('a'), 5, 'other');
    const e = engine(platform, store);
    e.offer(msg('a'), snap('a', 5));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(platform.updates).toEqual([]);
    e.offer(msg('a'), snap('a', 6));
    await vi.advanceTimersByTimeAsync(5_000);
    expect(platform.updates.map((u) => u.version)).toEqual([6]);
  });

  it('keeps trying a winner reply past the attempts cap (no later change will bring it back), and makes it once', async () => {
    const platform = new FakePlatform();
    const store = claims();
    const e = engine(platform, store);
    platform.replyScript = retries(14, 'http 503');
    e.offer(msg('a'), snap('a', 3, 'closed'));
    await vi.advanceTimersByTimeAsync(5 * 60_000);
    expect(platform.replies.length).toBeGreaterThan(11); // past the cap of 10 retries, still trying
    expect(store.made.size).toBe(0); // failed so far, so not recorded as made
    await vi.advanceTimersByTimeAsync(25 * 60_000);
    expect(platform.replies).toHaveLength(15); // 14 failures, then it went through
    expect(store.made).toEqual(new Set([messageKey(msg('a'))]));
    expect(e.destinations().get('slack:C1')?.dropped).toBe(0);
    expect(e.tracked()).toBe(0);
  });

  it("keeps trying a closed poll's last update past the attempts cap, then replies with the winner", async () => {
    const platform = new FakePlatform();
    const store = claims();
    const e = engine(platform, store);
    platform.script = retries(14, '5xx');
    e.offer(msg('a'), snap('a', 7, 'closed'));
    await vi.advanceTimersByTimeAsync(30 * 60_000);
    expect(platform.updates.map((u) => u.version)).toEqual(Array.from({ length: 15 }, () => 7));
    expect(platform.replies).toEqual([messageKey(msg('a'))]);
    expect(e.destinations().get('slack:C1')?.dropped).toBe(0);
  });

  it('makes the winner reply of a process that died before making it, and never one a live process holds', async () => {
    const platform = new FakePlatform();
    const store = claims();
    // bot-2 showed the final tally and claimed the reply.
    await store.claimMessageVersion(msg('a'), 5, 'bot-2');
    await store.claimAnnouncement(msg('a'), 'bot-2');
    const e = engine(platform, store);
    e.offer(msg('a'), snap('a', 5, 'closed'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(platform.updates).toEqual([]);
    expect(platform.replies).toEqual([]); // bot-2 lives and holds it
    // bot-2 dies before replying; the poll comes here and is offered again.
    store.lapsed.add('bot-2');
    e.offer(msg('a'), snap('a', 5, 'closed'));
    await vi.advanceTimersByTimeAsync(30_000);
    // Its claim of version 5 does not prove the message shows it (see the next test): sent again, then the reply.
    expect(platform.updates.map((u) => u.version)).toEqual([5]);
    expect(platform.replies).toEqual([messageKey(msg('a'))]);
    expect(store.made).toEqual(new Set([messageKey(msg('a'))]));
  });

  it("shows a closed poll's final tally that a process claimed and then died retrying (a 503, then a restart)", async () => {
    const store = claims();
    const before = new FakePlatform();
    const a = engine(before, store, 'bot-a');
    before.script = retries(1, 'http 503');
    a.offer(msg('a'), snap('a', 7, 'closed'));
    await vi.advanceTimersByTimeAsync(100); // the first try failed; the retry waits
    expect(before.updates.map((u) => u.version)).toEqual([7]);
    a.stop(); // the process goes (a deploy, a crash) before its retry, and its lease of the poll with it
    store.lapsed.add('bot-a');
    const after = new FakePlatform();
    const b = engine(after, store, 'bot-b');
    b.offer(msg('a'), snap('a', 7, 'closed'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(after.updates.map((u) => u.version)).toEqual([7]); // not taken for shown
    expect(after.replies).toEqual([messageKey(msg('a'))]);
  });

  it('retries a failed winner reply and makes it once', async () => {
    const platform = new FakePlatform();
    const e = engine(platform);
    platform.replyScript = [{ ok: false, kind: 'retry', reason: 'http 503' }];
    e.offer(msg('a'), snap('a', 3, 'closed'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(platform.replies).toEqual([messageKey(msg('a')), messageKey(msg('a'))]);
    e.offer(msg('a'), snap('a', 3, 'closed'));
    await vi.advanceTimersByTimeAsync(30_000);
    expect(platform.replies).toHaveLength(2);
    // and then forgets the message: nothing is left to send for a closed, announced poll
    expect(e.tracked()).toBe(0);
    expect(e.queueDepth()).toBe(0);
  });
});
