import { describe, expect, it } from 'vitest';
import type { PollQuery } from '../ports/store.ts';
import type { PollSummary } from '../protocol/index.ts';
import { todaysLunchPoll } from './todays-lunch-poll.ts';

/** A store's listPolls over fixed polls: newest first, filtered as the port says. */
function polls(
  list: (Pick<PollSummary, 'id' | 'created_at' | 'status'> & { template?: 'lunch' | 'choice' })[],
) {
  return {
    async listPolls(q: PollQuery = {}) {
      return list
        .map((p) => ({ template: 'lunch' as const, title: p.id, closes_at: null, ...p }))
        .filter((p) => (!q.template || p.template === q.template) && (!q.openOnly || p.status === 'open'))
        .sort((a, b) => b.created_at.localeCompare(a.created_at))
        .slice(0, q.limit ?? 100) as PollSummary[];
    },
  };
}

describe("today's lunch poll (the original client's)", () => {
  const now = new Date('2026-12-02T04:00:00Z');
  it('is the newest open lunch poll', async () => {
    const store = polls([
      { id: 'old', created_at: '2026-11-30T02:00:00Z', status: 'open' },
      { id: 'today', created_at: '2026-12-02T02:00:00Z', status: 'open' },
      { id: 'quick', created_at: '2026-12-02T03:00:00Z', status: 'open', template: 'choice' },
    ]);
    expect(await todaysLunchPoll(store, 'web', now)).toBe('today');
  });

  it("after the close, is today's closed poll (its decision), and nothing once a day has passed", async () => {
    const store = polls([
      { id: 'yesterday', created_at: '2026-12-01T02:00:00Z', status: 'closed' },
      { id: 'today', created_at: '2026-12-02T02:00:00Z', status: 'closed' },
    ]);
    expect(await todaysLunchPoll(store, 'web', now)).toBe('today');
    expect(await todaysLunchPoll(store, 'web', new Date('2026-12-03T03:00:00Z'))).toBeNull();
  });
});
