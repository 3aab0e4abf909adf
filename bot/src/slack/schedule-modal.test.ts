import type { CatalogPlace } from '@livevote/core/protocol';
import { describe, expect, it } from 'vitest';
import { placesMrkdwn, readPlacesModal } from './places-modal.ts';
import { readScheduleModal, scheduleModal } from './schedule-modal.ts';

const state = (v: Record<string, object>) => ({
  values: Object.fromEntries(Object.entries(v).map(([k, x]) => [k, { v: x }])),
});

describe('the /lunch schedule modal', () => {
  it("defaults the time zone to the person's Slack time zone", () => {
    expect(JSON.stringify(scheduleModal(undefined, 'Asia/Seoul'))).toContain('"initial_value":"Asia/Seoul"');
  });

  it('reads a schedule for this channel, checked like POST /api/schedules', () => {
    const r = readScheduleModal(
      state({
        weekdays: { selected_options: [{ value: '1' }, { value: '3' }] },
        open_at: { selected_time: '11:30' },
        close_at: { selected_time: '12:15' },
        timezone: { value: 'Asia/Seoul' },
        rule: { selected_option: { value: 'random' } },
        count: { value: '3' },
        exclude: { value: '7' },
        reminder: { value: '' },
        settings: { selected_options: [{ value: 'anonymous' }] },
      }),
      'slack:T1',
      'C9',
    );
    expect(r).toMatchObject({
      ok: true,
      body: {
        destination: { platform: 'slack', channel: 'C9' },
        weekdays: [1, 3],
        places: { rule: 'random', count: 3, exclude_visited_days: 7 },
        anonymous: true,
        reminder_minutes: null,
      },
    });
  });

  it('puts a bad time zone or a close before the opening on the field', () => {
    const base = {
      weekdays: { selected_options: [{ value: '1' }] },
      open_at: { selected_time: '11:30' },
      close_at: { selected_time: '12:15' },
      timezone: { value: 'Mars/Olympus' },
    };
    expect(readScheduleModal(state(base), 'slack:T1', 'C9')).toMatchObject({
      ok: false,
      errors: { timezone: expect.any(String) },
    });
    const late = { ...base, timezone: { value: 'UTC' }, close_at: { selected_time: '10:00' } };
    expect(readScheduleModal(state(late), 'slack:T1', 'C9')).toMatchObject({
      ok: false,
      errors: { close_at: expect.any(String) },
    });
  });
});

describe('the /lunch places modal', () => {
  const catalog: CatalogPlace[] = [{ id: 'p1', name: 'Pho', tags: [], dietary: [], active: true, menus: [] }];
  it('adds a place when none is picked, with its menus one per line', () => {
    expect(
      readPlacesModal(state({ name: { value: 'Bibim' }, menus: { value: 'Dolsot\n\nYukhoe' } }), catalog),
    ).toMatchObject({
      ok: true,
      kind: 'add',
      input: { name: 'Bibim', menus: [{ name: 'Dolsot' }, { name: 'Yukhoe' }] },
    });
  });
  it('deactivates the picked place by id, and refuses a place gone from the catalog', () => {
    expect(
      readPlacesModal(
        state({
          place: { selected_option: { value: 'p1' } },
          status: { selected_option: { value: 'inactive' } },
        }),
        catalog,
      ),
    ).toEqual({
      ok: true,
      kind: 'update',
      id: 'p1',
      patch: { active: false },
    });
    expect(
      readPlacesModal(
        state({ place: { selected_option: { value: 'gone' } }, name: { value: 'X' } }),
        catalog,
      ),
    ).toMatchObject({ ok: false, errors: { place: expect.any(String) } });
  });
});

describe('the /lunch places list, for those who may not change it', () => {
  it('lists every place with its menus, marks inactive ones and escapes names as mrkdwn', () => {
    const text = placesMrkdwn(
      [
        {
          id: 'p1',
          name: 'Pho <Hanoi>',
          tags: [],
          dietary: [],
          active: true,
          menus: [{ id: 'm1', name: 'Pho bo' }],
        },
        { id: 'p2', name: 'Closed & Co', tags: [], dietary: [], active: false, menus: [] },
      ],
      'Only workspace admins can change them.',
    );
    expect(text).toBe(
      '*Lunch places*\n• *Pho &lt;Hanoi&gt;*: Pho bo\n• ~*Closed &amp; Co*~ (inactive)\n_Only workspace admins can change them._',
    );
    expect(placesMrkdwn([], 'x')).toBe('No lunch places yet.\n_x_');
  });
});
