// `/lunch schedule`: this channel's schedule as text, and the modal that sets it (weekdays, open and close times,
// IANA timezone defaulting to the person's Slack time zone, places rule, anonymous, reminder). The body it reads is
// checked by the same schema as `POST /api/schedules`.
import { type CreateScheduleBody, createScheduleSchema, type Schedule } from '@livevote/core/protocol';
import type { Block } from './render-poll.ts';
import type { ViewState } from './view-state.ts';

export const SCHEDULE_MODAL = 'lunch-schedule-modal';
const DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'];

const text = (t: string) => ({ type: 'plain_text', text: t });
const option = (label: string, value: string) => ({ text: text(label), value });

export function scheduleText(s: Schedule | undefined): string {
  if (!s) return 'This channel has no lunch schedule yet. Set one with `/lunch schedule set`.';
  const days = s.weekdays.map((d) => DAYS[d - 1]).join(' ');
  const places = s.places.rule === 'random' ? `${s.places.count} random places` : 'all active places';
  const fresh = s.places.exclude_visited_days
    ? `, leaving out places visited in the last ${s.places.exclude_visited_days} days`
    : '';
  const reminder =
    s.reminder_minutes === null ? 'no reminder' : `a reminder ${s.reminder_minutes} min before close`;
  return `*${s.title}* ${s.active ? '' : '(paused) '}on ${days}, open ${s.open_at}–${s.close_at} (${s.timezone}): ${places}${fresh}; ${s.anonymous ? 'anonymous, ' : ''}${reminder}. Change it with \`/lunch schedule set\`.`;
}

export function scheduleModal(current: Schedule | undefined, timezone: string): Block {
  const days = DAYS.map((d, i) => option(d, String(i + 1)));
  const weekdays = current?.weekdays ?? [1, 2, 3, 4, 5];
  const rule = current?.places.rule ?? 'all';
  const input = (block_id: string, label: string, element: object, optional = false) => ({
    type: 'input',
    block_id,
    optional,
    label: text(label),
    element: { action_id: 'v', ...element },
  });
  return {
    type: 'modal',
    callback_id: SCHEDULE_MODAL,
    title: text('Lunch schedule'),
    submit: text('Save'),
    close: text('Cancel'),
    blocks: [
      input('weekdays', 'Weekdays', {
        type: 'checkboxes',
        options: days,
        initial_options: days.filter((d) => weekdays.includes(Number(d.value))),
      }),
      input('open_at', 'Opens at', { type: 'timepicker', initial_time: current?.open_at ?? '11:00' }),
      input('close_at', 'Closes at', { type: 'timepicker', initial_time: current?.close_at ?? '11:45' }),
      input('timezone', 'Time zone (IANA)', {
        type: 'plain_text_input',
        initial_value: current?.timezone ?? timezone,
      }),
      input('rule', 'Places', {
        type: 'static_select',
        options: [option('All active places', 'all'), option('A random few', 'random')],
        initial_option:
          rule === 'random' ? option('A random few', 'random') : option('All active places', 'all'),
      }),
      input(
        'count',
        'How many (random)',
        {
          type: 'number_input',
          is_decimal_allowed: false,
          min_value: '2',
          max_value: '50',
          ...(current?.places.count ? { initial_value: String(current.places.count) } : {}),
        },
        true,
      ),
      input(
        'exclude',
        'Leave out places visited in the last N days',
        {
          type: 'number_input',
          is_decimal_allowed: false,
          min_value: '1',
          max_value: '60',
          ...(current?.places.exclude_visited_days
            ? { initial_value: String(current.places.exclude_visited_days) }
            : {}),
        },
        true,
      ),
      input(
        'reminder',
        'Reminder, minutes before close (empty: none)',
        {
          type: 'number_input',
          is_decimal_allowed: false,
          min_value: '1',
          max_value: '240',
          ...(current === undefined || current.reminder_minutes !== null
            ? { initial_value: String(current?.reminder_minutes ?? 10) }
            : {}),
        },
        true,
      ),
      input(
        'settings',
        'Settings',
        {
          type: 'checkboxes',
          options: [option('Anonymous (nobody sees who voted)', 'anonymous')],
          ...(current?.anonymous
            ? { initial_options: [option('Anonymous (nobody sees who voted)', 'anonymous')] }
            : {}),
        },
        true,
      ),
    ],
  };
}

const BLOCK_OF: Record<string, string> = {
  weekdays: 'weekdays',
  open_at: 'open_at',
  close_at: 'close_at',
  timezone: 'timezone',
  places: 'rule',
  reminder_minutes: 'reminder',
};

/** The schedule a submitted modal sets for `channel`, or inline errors per block. */
export function readScheduleModal(
  state: ViewState,
  workspace: string,
  channel: string,
): { ok: true; body: CreateScheduleBody } | { ok: false; errors: Record<string, string> } {
  const v = state.values;
  const num = (block: string) => {
    const raw = v[block]?.v?.value?.trim();
    return raw ? Number(raw) : undefined;
  };
  const rule = v.rule?.v?.selected_option?.value === 'random' ? 'random' : 'all';
  const count = num('count');
  const exclude = num('exclude');
  if (rule === 'random' && count === undefined)
    return { ok: false, errors: { count: 'How many places should a random pick take?' } };
  const r = createScheduleSchema.safeParse({
    workspace,
    destination: { platform: 'slack', channel },
    weekdays: (v.weekdays?.v?.selected_options ?? []).map((o) => Number(o.value)),
    open_at: v.open_at?.v?.selected_time ?? '',
    close_at: v.close_at?.v?.selected_time ?? '',
    timezone: v.timezone?.v?.value?.trim() ?? '',
    places: {
      rule,
      ...(rule === 'random' && count !== undefined ? { count } : {}),
      ...(exclude !== undefined ? { exclude_visited_days: exclude } : {}),
    },
    anonymous: (v.settings?.v?.selected_options ?? []).some((o) => o.value === 'anonymous'),
    reminder_minutes: num('reminder') ?? null,
  });
  if (r.success) return { ok: true, body: r.data };
  const first = r.error.issues[0];
  const block = BLOCK_OF[String(first?.path[0] ?? '')] ?? 'close_at';
  return { ok: false, errors: { [block]: first?.message ?? 'Not valid.' } };
}
