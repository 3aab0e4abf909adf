import { describe, expect, it } from 'vitest';
import { decide, leaderCannotBeCaught, seededIndex } from './decide.ts';

const opts = (...votes: number[]) =>
  votes.map((v, i) => ({ id: `pl${i + 1}`, label: `Place ${i + 1}`, votes: v }));
const base = {
  totalVoters: 5,
  quorum: null,
  extended: false,
  trigger: 'due' as const,
  lastVisits: new Map<string, string>(),
  seed: 'c0ffee01',
};

describe('decide', () => {
  it('gives a clear majority to its leader', () => {
    const out = decide({ ...base, options: opts(3, 1, 1) });
    expect(out).toMatchObject({
      action: 'close',
      decision: { reason: 'majority', option_id: 'pl1', vote_count: 3 },
    });
  });

  it('gives a tie to the place visited longest ago, and says so', () => {
    const lastVisits = new Map([
      ['pl1', '2026-11-30'],
      ['pl2', '2026-11-02'],
    ]);
    const out = decide({ ...base, options: opts(2, 2, 1), lastVisits });
    if (out.action !== 'close') throw new Error('expected a close');
    expect(out.decision).toMatchObject({ reason: 'least_recent', option_id: 'pl2', tied: ['pl1', 'pl2'] });
    expect(out.decision.text).toContain('Place 2');
    expect(out.decision.text).toContain('visited longest ago (last on 2026-11-02)');
  });

  it('counts a place never visited as the one visited longest ago', () => {
    const out = decide({ ...base, options: opts(2, 2), lastVisits: new Map([['pl1', '2020-01-01']]) });
    expect(out).toMatchObject({ decision: { reason: 'least_recent', option_id: 'pl2' } });
  });

  it('breaks a tie that visits cannot break with a seeded pick anyone can re-run', () => {
    const a = decide({ ...base, options: opts(2, 2, 2), seed: 'aaaa0001' });
    const again = decide({ ...base, options: opts(2, 2, 2), seed: 'aaaa0001' });
    if (a.action !== 'close' || again.action !== 'close') throw new Error('expected a close');
    expect(a.decision.reason).toBe('random');
    expect(a.decision.seed).toBe('aaaa0001');
    expect(a.decision.text).toContain('picked at random among those never visited (seed aaaa0001)');
    // Among places last visited on one day, it says that day.
    const day = '2026-11-20';
    const visited = new Map(['pl1', 'pl2', 'pl3'].map((id) => [id, day]));
    const b = decide({ ...base, options: opts(2, 2, 2), seed: 'aaaa0001', lastVisits: visited });
    expect(b.action === 'close' && b.decision.text).toContain(
      `among those last visited on ${day} (seed aaaa0001)`,
    );
    expect(again.decision.option_id).toBe(a.decision.option_id);
    // The documented recipe: sha256("<seed>:<sorted ids joined by ,>"), first 8 hex digits mod n.
    const ids = ['pl1', 'pl2', 'pl3'];
    expect(a.decision.option_id).toBe(ids[seededIndex('aaaa0001', ids)]);
    // Different seeds reach every candidate.
    const picks = new Set(
      Array.from({ length: 40 }, (_, i) => {
        const o = decide({ ...base, options: opts(2, 2, 2), seed: i.toString(16).padStart(8, '0') });
        return o.action === 'close' ? o.decision.option_id : null;
      }),
    );
    expect(picks).toEqual(new Set(ids));
  });

  it('extends once below the quorum, then closes with no decision', () => {
    const first = decide({ ...base, options: opts(1, 0), totalVoters: 1, quorum: 3 });
    expect(first).toEqual({ action: 'extend' });
    const second = decide({ ...base, options: opts(1, 0), totalVoters: 1, quorum: 3, extended: true });
    expect(second).toMatchObject({
      action: 'close',
      decision: { outcome: 'no_decision', reason: 'quorum_not_met', option_id: null, extended: true },
    });
    if (second.action === 'close') expect(second.decision.text).toContain('1 of the 3 voters needed');
  });

  it('does not extend a poll closed by hand below its quorum', () => {
    const out = decide({ ...base, options: opts(1, 0), totalVoters: 1, quorum: 3, trigger: 'manual' });
    expect(out).toMatchObject({ decision: { reason: 'quorum_not_met' } });
  });

  it('closes with no decision when nobody voted', () => {
    expect(decide({ ...base, options: opts(0, 0), totalVoters: 0 })).toMatchObject({
      decision: { outcome: 'no_decision', reason: 'no_votes' },
    });
  });

  it('names an early close', () => {
    expect(decide({ ...base, options: opts(4, 0), trigger: 'early' })).toMatchObject({
      decision: { reason: 'early', option_id: 'pl1' },
    });
  });
});

describe('leaderCannotBeCaught', () => {
  it('is true only when the voters still expected cannot close the gap', () => {
    expect(leaderCannotBeCaught([4, 1], 5, 6)).toBe(true); // 1 left, gap 3
    expect(leaderCannotBeCaught([3, 1], 4, 6)).toBe(false); // 2 left could tie
    expect(leaderCannotBeCaught([3, 0], 3, 5)).toBe(true);
    expect(leaderCannotBeCaught([0, 0], 0, 0)).toBe(false);
  });
});
