// Every Slack surface livevote renders, at the largest inputs the API accepts, against Slack's own Block Kit checks
// (bot/testing/block-kit.ts): a message or modal that breaks one is refused whole by Slack, so a poll would not
// post, a tally would stop updating or a command would open nothing.
import { buildPoll, buildSnapshot, type Poll } from '@livevote/core';
import type { CatalogPlace, Schedule } from '@livevote/core/protocol';
import { describe, expect, it } from 'vitest';
import { messageProblems, messageRefusal, viewProblems, viewRefusal } from '../../testing/block-kit.ts';
import { lunchModal } from './lunch-modal.ts';
import { placesModal } from './places-modal.ts';
import { renderPoll } from './render-poll.ts';
import { scheduleModal } from './schedule-modal.ts';
import { addOptionModal, voteModal } from './vote-modal.ts';

const label = (i: number, n = 120) => `${i} ${'가나다 Long name '.repeat(10)}`.slice(0, n);
const voters = (n: number) => Array.from({ length: n }, (_, i) => `slack:T1:U${1000 + i}`);

function rendered(poll: Poll, status: 'open' | 'closed', everyoneVoted = true) {
  const ids = poll.questions.flatMap((q) => q.options.map((o) => o.id));
  const counts = Object.fromEntries(ids.map((id, i) => [id, everyoneVoted ? 1000 + i : 0]));
  const s = buildSnapshot(poll, { version: 7, status, totalVoters: 9999, counts });
  return renderPoll(poll, s, {
    publicUrl: 'https://lunch.example.test',
    voters: Object.fromEntries(ids.map((id) => [id, voters(12)])),
  });
}

const biggest = {
  'one question, 10 options of 120 characters (buttons)': buildPoll(
    {
      template: 'choice',
      title: label(0),
      options: Array.from({ length: 10 }, (_, i) => label(i)),
      settings: { allow_add_options: true },
    },
    'p1',
    new Date(),
  ),
  '10 questions of 100 options of 120 characters (select menus)': buildPoll(
    {
      template: 'choice',
      title: label(0),
      questions: Array.from({ length: 10 }, (_, q) => ({
        prompt: label(q),
        options: Array.from({ length: 100 }, (_, i) => label(i)),
        max_choices: 100,
      })),
    },
    'p2',
    new Date(),
  ),
  '10 questions of 10 options (buttons, past 50 blocks)': buildPoll(
    {
      template: 'choice',
      title: label(0),
      questions: Array.from({ length: 10 }, (_, q) => ({
        prompt: label(q),
        options: Array.from({ length: 10 }, (_, i) => label(i)),
      })),
    },
    'p3',
    new Date(),
  ),
  'lunch: 50 places of 30 menus, every name 120 characters': buildPoll(
    {
      template: 'lunch',
      title: label(0),
      places: Array.from({ length: 50 }, (_, p) => ({
        name: label(p),
        label_en: label(p),
        menus: Array.from({ length: 30 }, (_, m) => ({ name: label(m) })),
      })),
      max_choices: 50,
    },
    'p4',
    new Date(),
  ),
};

describe('Block Kit limits, checked as Slack checks them', () => {
  it('the checker refuses what Slack refuses, naming the place', () => {
    const ok = { type: 'section', text: { type: 'mrkdwn', text: 'hi' } };
    expect(messageProblems({ blocks: [ok] })).toEqual([]);
    const tooLongButton = {
      type: 'actions',
      elements: [{ type: 'button', action_id: 'a', text: { type: 'plain_text', text: 'x'.repeat(76) } }],
    };
    expect(messageRefusal({ blocks: [ok, tooLongButton] })).toEqual({
      ok: false,
      error: 'invalid_blocks',
      response_metadata: {
        messages: ['[ERROR] must be less than 76 characters [json-pointer:/blocks/1/elements/0/text/text]'],
      },
    });
    const emptySelect = {
      type: 'actions',
      elements: [{ type: 'static_select', action_id: 's', options: [] }],
    };
    expect(messageProblems({ blocks: [emptySelect] })[0]?.message).toBe('must provide at least 1 item');
    expect(
      messageProblems({ blocks: [ok, { ...ok, block_id: 'b' }, { ...ok, block_id: 'b' }] }),
    ).toHaveLength(1);
    expect(
      messageProblems({ blocks: [{ type: 'section', text: { type: 'mrkdwn', text: '' } }] }),
    ).toHaveLength(1);
    expect(messageProblems({ blocks: Array.from({ length: 51 }, () => ok) })).toHaveLength(1);
    expect(messageRefusal({ text: 'x'.repeat(40_001) })).toEqual({ ok: false, error: 'msg_too_long' });
    const modal = {
      type: 'modal',
      title: { type: 'plain_text', text: 'A title of 25 characters!' },
      blocks: [],
    };
    expect(viewRefusal(modal)?.error).toBe('invalid_arguments');
    const stray = {
      type: 'input',
      label: { type: 'plain_text', text: 'L' },
      element: {
        type: 'checkboxes',
        options: [{ text: { type: 'plain_text', text: 'a' }, value: 'a' }],
        initial_options: [{ text: { type: 'plain_text', text: 'b' }, value: 'b' }],
      },
    };
    expect(
      viewProblems({ type: 'modal', title: { type: 'plain_text', text: 'T' }, blocks: [stray] }).map(
        (p) => p.message,
      ),
    ).toEqual(['must match one of the provided options', 'must be provided when the view has inputs']);
  });

  describe.each(Object.entries(biggest))('the poll message: %s', (_, poll) => {
    it.each([
      ['open', true],
      ['open', false],
      ['closed', true],
    ] as const)('is accepted %s (votes everywhere: %s)', (status, everyoneVoted) => {
      const msg = rendered(poll, status, everyoneVoted);
      expect(messageProblems(msg)).toEqual([]);
      expect(messageRefusal(msg)).toBeNull();
    });
  });

  const place = (i: number, active = true): CatalogPlace => ({
    id: `cp${i}`,
    name: label(i),
    label_en: label(i),
    tags: [],
    dietary: [],
    active,
    menus: Array.from({ length: 30 }, (_, m) => ({ id: `cm${i}-${m}`, name: label(m) })),
  });
  const catalog = Array.from({ length: 150 }, (_, i) => place(i));
  const schedule: Schedule = {
    id: 's1',
    workspace: 'slack:T1',
    destination: { platform: 'slack', channel: 'C1' },
    weekdays: [1, 3, 5],
    open_at: '11:00',
    close_at: '11:45',
    timezone: 'America/Argentina/ComodRivadavia',
    skip_dates: [],
    places: { rule: 'random', count: 50, exclude_visited_days: 60 },
    title: label(1),
    anonymous: true,
    quorum: 10_000,
    extend_minutes: 240,
    reminder_minutes: 240,
    nudges: true,
    early_close: true,
    active: false,
    created_at: new Date().toISOString(),
  } as Schedule;

  it.each([
    ['/lunch with a catalog of 150 long places', () => lunchModal(catalog, 'C1')],
    ['/lunch with two places', () => lunchModal(catalog.slice(0, 2), 'C1')],
    ['/lunch places with 150 long places', () => placesModal(catalog)],
    ['/lunch places with one place', () => placesModal(catalog.slice(0, 1))],
    ['/lunch schedule set, new', () => scheduleModal(undefined, 'Asia/Seoul')],
    ['/lunch schedule set, an existing schedule', () => scheduleModal(schedule, 'Asia/Seoul')],
    ['/vote', () => voteModal({ channel: 'C1', responseUrl: `https://hooks.slack.test/${'x'.repeat(200)}` })],
    ['add an option', () => addOptionModal('p1', 'q1', label(0))],
  ])('the modal %s is accepted', (_, view) => {
    expect(viewProblems(view())).toEqual([]);
  });
});
