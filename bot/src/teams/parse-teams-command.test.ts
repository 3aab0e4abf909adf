import { describe, expect, it } from 'vitest';
import { parseTeamsCommand } from './parse-teams-command.ts';

describe('Teams commands', () => {
  it('reads "lunch" and "poll Question; A; B", ignoring mentions', () => {
    expect(parseTeamsCommand('<at>livevote</at> lunch')).toEqual({ ok: true, value: { kind: 'lunch' } });
    expect(parseTeamsCommand('poll Where? ; Pizza; Sushi')).toEqual({
      ok: true,
      value: { kind: 'poll', question: 'Where?', options: ['Pizza', 'Sushi'] },
    });
    expect(parseTeamsCommand('poll Where?; Pizza').ok).toBe(false);
    expect(parseTeamsCommand('hi')).toEqual({ ok: true, value: { kind: 'help' } });
  });

  it('reads a close time on both', () => {
    expect(parseTeamsCommand('poll Where?; Pizza; Sushi; closes 12:30')).toEqual({
      ok: true,
      value: {
        kind: 'poll',
        question: 'Where?',
        options: ['Pizza', 'Sushi'],
        closes: { hour: 12, minute: 30 },
      },
    });
    expect(parseTeamsCommand('lunch closes 1:15pm')).toEqual({
      ok: true,
      value: { kind: 'lunch', closes: { hour: 13, minute: 15 } },
    });
    expect(parseTeamsCommand('lunch; closes at 11:45')).toEqual({
      ok: true,
      value: { kind: 'lunch', closes: { hour: 11, minute: 45 } },
    });
  });

  it('refuses a close time that is no time, naming it', () => {
    const r = parseTeamsCommand('poll Where?; Pizza; Sushi; closes soon');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.message).toContain('"soon" is not a time');
    expect(parseTeamsCommand('lunch closes 25:00').ok).toBe(false);
    // Two options plus a close time is still two options.
    expect(parseTeamsCommand('poll Where?; Pizza; closes 12:30').ok).toBe(false);
  });
});

describe('lunch places and lunch schedule', () => {
  it('reads the catalog and schedule commands', () => {
    expect(parseTeamsCommand('<at>livevote</at> lunch places')).toEqual({
      ok: true,
      value: { kind: 'places' },
    });
    expect(parseTeamsCommand('lunch schedule')).toEqual({ ok: true, value: { kind: 'schedule' } });
    expect(parseTeamsCommand('lunch schedule 11:30-12:30 mon-fri Asia/Seoul')).toEqual({
      ok: true,
      value: {
        kind: 'schedule',
        set: { open_at: '11:30', close_at: '12:30', weekdays: [1, 2, 3, 4, 5], timezone: 'Asia/Seoul' },
      },
    });
    expect(parseTeamsCommand('lunch schedule 9:05-9:40 sat,mon')).toMatchObject({
      value: { set: { open_at: '09:05', close_at: '09:40', weekdays: [1, 6] } },
    });
  });

  it('says how to write a schedule it cannot read', () => {
    expect(parseTeamsCommand('lunch schedule noon')).toMatchObject({ ok: false });
    expect(parseTeamsCommand('lunch schedule 11:30-12:30 someday')).toMatchObject({
      ok: false,
      message: expect.stringContaining('someday'),
    });
  });
});
