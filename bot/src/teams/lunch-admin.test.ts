import type { Core } from '@livevote/core';
import type { CatalogPlace, Schedule } from '@livevote/core/protocol';
import { describe, expect, it } from 'vitest';
import { lunchAdminAnswer } from './lunch-admin.ts';

/** The parts of the core these commands use: the catalog and the schedules, in memory. */
function fakeCore(places: CatalogPlace[]) {
  const schedules: Schedule[] = [];
  const core = {
    catalog: { places: async () => places, seedPlaces: async () => {} },
    lunch: {
      schedules: async () => schedules,
      schedule: async (id: string) => schedules.find((s) => s.id === id),
      createSchedule: async (s: Schedule) => void schedules.push(s),
      updateSchedule: async (id: string, spec: Partial<Schedule>) => {
        const i = schedules.findIndex((s) => s.id === id);
        schedules[i] = { ...(schedules[i] as Schedule), ...spec };
        return schedules[i];
      },
    },
  } as unknown as Core;
  return { core, schedules };
}

const at = {
  workspace: 'teams:tn1',
  conversation: '19:abc@thread.tacv2',
  timezone: 'Asia/Seoul',
  publicUrl: 'https://l.example',
  mayEdit: async () => true,
};

describe('Teams lunch places and lunch schedule', () => {
  it('lists the places, inactive ones marked', async () => {
    const { core } = fakeCore([
      {
        id: 'p1',
        name: 'Pho Hanoi',
        tags: [],
        dietary: [],
        active: true,
        menus: [{ id: 'm1', name: 'Pho bo' }],
      },
      { id: 'p2', name: 'Closed Diner', tags: [], dietary: [], active: false, menus: [] },
    ]);
    const text = await lunchAdminAnswer(core, at, { kind: 'places' });
    expect(text).toContain('**Pho Hanoi**: Pho bo');
    expect(text).toContain('~~**Closed Diner**~~ (inactive)');
  });

  it('sets the conversation’s schedule from one line, then changes it instead of adding a second', async () => {
    const { core, schedules } = fakeCore([]);
    expect(await lunchAdminAnswer(core, at, { kind: 'schedule' })).toContain('no lunch schedule');
    const set = await lunchAdminAnswer(core, at, {
      kind: 'schedule',
      set: { open_at: '11:30', close_at: '12:30', weekdays: [1, 2, 3, 4, 5] },
    });
    expect(set).toContain('11:30–12:30 (Asia/Seoul)');
    expect(schedules[0]?.destination).toEqual({ platform: 'teams', conversation_id: at.conversation });
    await lunchAdminAnswer(core, at, {
      kind: 'schedule',
      set: { open_at: '11:00', close_at: '11:40', weekdays: [5], timezone: 'Europe/Berlin' },
    });
    expect(schedules).toHaveLength(1);
    expect(await lunchAdminAnswer(core, at, { kind: 'schedule' })).toContain(
      'on Fri, 11:00–11:40 (Europe/Berlin)',
    );
  });

  it('shows the schedule to anyone but changes it only for someone who may edit', async () => {
    const { core, schedules } = fakeCore([]);
    const member = { ...at, mayEdit: async () => false };
    const set = { open_at: '11:30', close_at: '12:30', weekdays: [1, 2, 3, 4, 5] };
    expect(await lunchAdminAnswer(core, member, { kind: 'schedule', set })).toContain(
      'Only owners of this team or chat can change',
    );
    expect(schedules).toHaveLength(0);
    const unchecked = { ...member, refusal: 'this bot cannot check who they are' };
    expect(await lunchAdminAnswer(core, unchecked, { kind: 'schedule', set })).toBe(
      '⚠️ this bot cannot check who they are',
    );
    await lunchAdminAnswer(core, at, { kind: 'schedule', set });
    expect(await lunchAdminAnswer(core, member, { kind: 'schedule' })).toContain('11:30–12:30');
  });

  it('refuses a close before the opening, or an unknown time zone, and changes nothing', async () => {
    const { core, schedules } = fakeCore([]);
    const late = await lunchAdminAnswer(core, at, {
      kind: 'schedule',
      set: { open_at: '12:30', close_at: '11:30', weekdays: [1] },
    });
    expect(late).toContain('open_at must be before close_at');
    const zone = await lunchAdminAnswer(core, at, {
      kind: 'schedule',
      set: { open_at: '11:30', close_at: '12:30', weekdays: [1], timezone: 'Mars/Olympus' },
    });
    expect(zone).toContain('IANA');
    expect(schedules).toHaveLength(0);
  });
});
