import { describe, expect, it } from 'vitest';
import { isTimeZone, nextWallClockTime, parseClockTime } from './close-time.ts';

describe('close times typed in a chat', () => {
  it('reads 24-hour and am/pm times, and refuses what is not a time', () => {
    expect(parseClockTime('12:30')).toEqual({ hour: 12, minute: 30 });
    expect(parseClockTime('9:05')).toEqual({ hour: 9, minute: 5 });
    expect(parseClockTime('1:15pm')).toEqual({ hour: 13, minute: 15 });
    expect(parseClockTime('12:00 am')).toEqual({ hour: 0, minute: 0 });
    expect(parseClockTime('24:00')).toBeNull();
    expect(parseClockTime('12:60')).toBeNull();
    expect(parseClockTime('13:00pm')).toBeNull();
    expect(parseClockTime('noon')).toBeNull();
  });

  it('is today when the time is still ahead on the sender wall clock, else tomorrow', () => {
    const now = new Date('2026-12-01T02:00:00Z'); // 11:00 in Seoul
    expect(nextWallClockTime({ hour: 12, minute: 30 }, { timeZone: 'Asia/Seoul' }, now).toISOString()).toBe(
      '2026-12-01T03:30:00.000Z',
    );
    expect(nextWallClockTime({ hour: 10, minute: 0 }, { timeZone: 'Asia/Seoul' }, now).toISOString()).toBe(
      '2026-12-02T01:00:00.000Z',
    );
    // The same instant is still the evening before in New York.
    expect(
      nextWallClockTime({ hour: 22, minute: 0 }, { timeZone: 'America/New_York' }, now).toISOString(),
    ).toBe('2026-12-01T03:00:00.000Z');
    expect(nextWallClockTime({ hour: 12, minute: 30 }, { offsetMinutes: 540 }, now).toISOString()).toBe(
      '2026-12-01T03:30:00.000Z',
    );
  });

  it('takes the offset in force at the close time across a daylight-saving change', () => {
    // Berlin moves from +1 to +2 at 01:00Z on 29 March 2026; 12:30 that day is 10:30Z.
    const now = new Date('2026-03-28T23:00:00Z');
    expect(
      nextWallClockTime({ hour: 12, minute: 30 }, { timeZone: 'Europe/Berlin' }, now).toISOString(),
    ).toBe('2026-03-29T10:30:00.000Z');
  });

  it('knows zone names', () => {
    expect(isTimeZone('Asia/Seoul')).toBe(true);
    expect(isTimeZone('Mars/Olympus')).toBe(false);
  });
});
