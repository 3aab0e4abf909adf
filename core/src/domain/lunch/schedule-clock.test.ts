import { describe, expect, it } from 'vitest';
import { dueRun, localParts, nextOpening, runNow, zonedTime } from './schedule-clock.ts';

const seoul = {
  weekdays: [1, 2, 3, 4, 5],
  open_at: '11:00',
  close_at: '11:45',
  timezone: 'Asia/Seoul',
  skip_dates: ['2026-12-25'],
  active: true,
};

describe('schedule clock', () => {
  it('reads local dates and times in the schedule’s zone, not the server’s', () => {
    // 2026-12-01 23:30 UTC is already Wednesday 2026-12-02 08:30 in Seoul.
    expect(localParts(new Date('2026-12-01T23:30:00Z'), 'Asia/Seoul')).toEqual({
      date: '2026-12-02',
      weekday: 3,
    });
    expect(zonedTime('2026-12-02', '11:00', 'Asia/Seoul').toISOString()).toBe('2026-12-02T02:00:00.000Z');
    // Across a DST change: New York is UTC-4 in July, UTC-5 in December.
    expect(zonedTime('2026-07-01', '12:00', 'America/New_York').toISOString()).toBe(
      '2026-07-01T16:00:00.000Z',
    );
    expect(zonedTime('2026-12-01', '12:00', 'America/New_York').toISOString()).toBe(
      '2026-12-01T17:00:00.000Z',
    );
  });

  it('is due from the opening until the close on poll days only', () => {
    expect(dueRun(seoul, new Date('2026-12-02T01:59:59Z'))).toBeNull();
    expect(dueRun(seoul, new Date('2026-12-02T02:00:00Z'))?.localDate).toBe('2026-12-02');
    // A server that was down at 11:00 still opens the poll at 11:30...
    expect(dueRun(seoul, new Date('2026-12-02T02:30:00Z'))?.closesAt.toISOString()).toBe(
      '2026-12-02T02:45:00.000Z',
    );
    // ...but not after the close.
    expect(dueRun(seoul, new Date('2026-12-02T02:45:00Z'))).toBeNull();
    // Saturday, and a skip date.
    expect(dueRun(seoul, new Date('2026-12-05T02:10:00Z'))).toBeNull();
    expect(dueRun(seoul, new Date('2026-12-25T02:10:00Z'))).toBeNull();
    expect(dueRun({ ...seoul, active: false }, new Date('2026-12-02T02:10:00Z'))).toBeNull();
  });

  it('finds the next opening past weekends and skip dates', () => {
    // Thursday 24th after the opening → Friday is Christmas (skipped) → Monday 28th.
    expect(nextOpening(seoul, new Date('2026-12-24T03:00:00Z'))?.toISOString()).toBe(
      '2026-12-28T02:00:00.000Z',
    );
  });

  it('runs now on any day, closing at today’s close time or after the usual length', () => {
    expect(runNow(seoul, new Date('2026-12-05T01:00:00Z')).closesAt.toISOString()).toBe(
      '2026-12-05T02:45:00.000Z',
    );
    expect(runNow(seoul, new Date('2026-12-02T05:00:00Z')).closesAt.toISOString()).toBe(
      '2026-12-02T05:45:00.000Z',
    );
  });

  it('reads daylight-saving days alike in every zone: a repeated time is the later, a skipped one lands after the gap', () => {
    // New York: 2:00 EST jumps to 3:00 EDT at 07:00Z; 01:30 is shown twice on 2026-11-01 (05:30Z EDT, 06:30Z EST).
    expect(zonedTime('2026-03-08', '02:30', 'America/New_York').toISOString()).toBe(
      '2026-03-08T07:30:00.000Z',
    );
    expect(zonedTime('2026-11-01', '01:30', 'America/New_York').toISOString()).toBe(
      '2026-11-01T06:30:00.000Z',
    );
    // Berlin: the same rules.
    expect(zonedTime('2026-03-29', '02:30', 'Europe/Berlin').toISOString()).toBe('2026-03-29T01:30:00.000Z');
    expect(zonedTime('2026-10-25', '02:30', 'Europe/Berlin').toISOString()).toBe('2026-10-25T01:30:00.000Z');
    // A night schedule in the gap is not due before it (01:45 EST is 06:45Z).
    const night = {
      weekdays: [7],
      open_at: '02:30',
      close_at: '03:30',
      timezone: 'America/New_York',
      skip_dates: [],
      active: true,
    };
    expect(dueRun(night, new Date('2026-03-08T06:45:00Z'))).toBeNull();
    // Ordinary days and lunch hours are untouched.
    expect(zonedTime('2026-03-08', '12:00', 'America/New_York').toISOString()).toBe(
      '2026-03-08T16:00:00.000Z',
    );
    expect(zonedTime('2026-12-02', '11:30', 'Asia/Seoul').toISOString()).toBe('2026-12-02T02:30:00.000Z');
  });
});
