import { describe, expect, it } from 'vitest';
import { planReminders, regulars } from './reminder-plan.ts';

const closesAt = new Date('2026-12-02T02:45:00Z');
const at = (minutesBefore: number) => new Date(closesAt.getTime() - minutesBefore * 60_000);
const s = (...keys: string[]) => new Set(keys);
const base = {
  closesAt,
  reminderMinutes: 10,
  sent: s(),
  nudges: false,
  earlierPolls: [s('emp:1', 'emp:2'), s('emp:1', 'emp:3'), s('emp:2'), s('emp:4'), s(), s('emp:4', 'emp:5')],
  votedToday: s(),
  optedOut: s(),
};

describe('planReminders', () => {
  it('reminds the destination once, only within N minutes before close', () => {
    expect(planReminders({ ...base, now: at(11) }).destination).toBe(false);
    expect(planReminders({ ...base, now: at(10) }).destination).toBe(true);
    expect(planReminders({ ...base, now: at(3), sent: s('destination') }).destination).toBe(false);
    expect(planReminders({ ...base, now: closesAt }).destination).toBe(false);
    expect(planReminders({ ...base, now: at(5), reminderMinutes: null }).destination).toBe(false);
  });

  it('nudges nobody unless nudges are on', () => {
    expect(planReminders({ ...base, now: at(5) }).nudge).toEqual([]);
  });

  it('nudges only regulars (2 of the last 5 polls) who have not voted today and did not opt out, once', () => {
    // Only the last five polls count: emp:4's second vote is in the sixth.
    expect(regulars(base.earlierPolls)).toEqual(s('emp:1', 'emp:2'));
    expect(planReminders({ ...base, nudges: true, now: at(5) }).nudge).toEqual(['emp:1', 'emp:2']);
    expect(planReminders({ ...base, nudges: true, now: at(5), votedToday: s('emp:1') }).nudge).toEqual([
      'emp:2',
    ]);
    expect(planReminders({ ...base, nudges: true, now: at(5), optedOut: s('emp:2') }).nudge).toEqual([
      'emp:1',
    ]);
    expect(planReminders({ ...base, nudges: true, now: at(5), sent: s('emp:1', 'emp:2') }).nudge).toEqual([]);
  });
});
