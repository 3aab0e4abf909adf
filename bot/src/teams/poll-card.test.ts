import { buildPoll, buildSnapshot, type Poll } from '@livevote/core';
import { NO_DECISION_TEXT, tiedLunch } from '@livevote/core/testing';
import { describe, expect, it } from 'vitest';
import { type Card, cardBytes, MAX_CARD_BYTES, pollCard } from './poll-card.ts';

const snapshotOf = (poll: Poll, counts: Record<string, number> = {}, status: 'open' | 'closed' = 'open') =>
  buildSnapshot(poll, {
    version: 1,
    status,
    totalVoters: Object.values(counts).reduce((a, b) => a + b, 0),
    counts,
  });

/** Every element of a card, depth first (body items, columns, action sets, actions). */
function walk(card: Card): Card[] {
  const out: Card[] = [];
  const visit = (x: unknown) => {
    if (Array.isArray(x)) for (const y of x) visit(y);
    else if (x && typeof x === 'object') {
      out.push(x as Card);
      for (const v of Object.values(x)) visit(v);
    }
  };
  visit(card);
  return out;
}
const executes = (card: Card, verb: string) =>
  walk(card).filter((e) => e.type === 'Action.Execute' && e.verb === verb);
const choiceSet = (card: Card, id: string): Card =>
  walk(card).find((e) => e.type === 'Input.ChoiceSet' && e.id === id) as Card;

function lunch(
  places: number,
  menus: number,
  name = (i: number) => `Place ${i}`,
  dish = (i: number, j: number) => `Dish ${i}-${j}`,
) {
  return buildPoll(
    {
      template: 'lunch',
      places: Array.from({ length: places }, (_, i) => ({
        name: name(i),
        menus: Array.from({ length: menus }, (_, j) => ({ name: dish(i, j) })),
      })),
    },
    'lunch1',
    new Date(),
  );
}

describe('the Teams poll card', () => {
  it('gives a 5-place lunch poll one button per place, and its menus one choice set labelled with the place', () => {
    const poll = lunch(
      5,
      2,
      (i) => ['김밥천국', 'Pho Bay', 'Sushi Go', 'Taco Loco', 'Pizza Uno'][i] ?? '',
      () => 'Set A',
    );
    const card = pollCard(poll, snapshotOf(poll), { publicUrl: 'https://x' });
    const places = executes(card, 'vote').filter((a) => a.data.question_id === 'place');
    expect(places.map((a) => a.title)).toEqual(['김밥천국', 'Pho Bay', 'Sushi Go', 'Taco Loco', 'Pizza Uno']);
    expect(places.every((a) => a.data.option_id && a.fallback?.type === 'Action.Submit')).toBe(true);
    expect(choiceSet(card, 'choice_place')).toBeUndefined();
    const menus = choiceSet(card, 'choice_menu');
    // Same-named dishes of different places stay apart, grouped by place in the poll's order.
    expect(menus.choices.slice(0, 3).map((c: { title: string }) => c.title)).toEqual([
      '김밥천국 · Set A',
      '김밥천국 · Set A',
      'Pho Bay · Set A',
    ]);
    expect(new Set(menus.choices.map((c: { value: string }) => c.value)).size).toBe(10);
  });

  it('switches a lunch poll past 6 places to a choice set with one Vote button', () => {
    const poll = lunch(7, 0);
    const card = pollCard(poll, snapshotOf(poll), { publicUrl: 'https://x' });
    expect(choiceSet(card, 'choice_place').choices).toHaveLength(7);
    expect(executes(card, 'vote')).toHaveLength(1);
  });

  it('keeps a 50 × 30 lunch card under the Teams limit, saying how many more and linking the board', () => {
    const poll = lunch(
      50,
      30,
      (i) => `Restaurant ${i} on Main Street`,
      (i, j) => `Lunch special number ${j} of ${i}`,
    );
    const counts = Object.fromEntries(poll.questions.flatMap((q) => q.options.map((o, k) => [o.id, k % 7])));
    const card = pollCard(poll, snapshotOf(poll, counts), { publicUrl: 'https://lunch.example.com' });
    expect(cardBytes(card)).toBeLessThan(MAX_CARD_BYTES - 1024);
    const text = JSON.stringify(card);
    expect(text).toMatch(/\+\d+ more/);
    expect(text).toContain('https://lunch.example.com/board/lunch1');
    // Still votable in Teams: both questions have a choice set, the menu one cut to what fits.
    expect(choiceSet(card, 'choice_place').choices.length).toBeGreaterThan(0);
    const menus = choiceSet(card, 'choice_menu').choices.length;
    expect(menus).toBeGreaterThan(0);
    expect(menus).toBeLessThan(1500);
  });

  it('fits even with the longest labels a poll takes, down to a link to vote on the web', () => {
    const long = (p: string) => `${p} ${'가'.repeat(110)}`;
    const poll = lunch(
      50,
      30,
      (i) => long(`P${i}`),
      (i, j) => long(`M${i}.${j}`),
    );
    const card = pollCard(poll, snapshotOf(poll), { publicUrl: 'https://x' });
    expect(cardBytes(card)).toBeLessThan(MAX_CARD_BYTES - 1024);
    expect(JSON.stringify(card)).toContain('https://x/board/lunch1');
  });

  it('degrades a card that does not fit a small limit instead of failing', () => {
    const options = Array.from({ length: 100 }, (_, i) => `Option ${i} ${'x'.repeat(55)}`);
    const poll = buildPoll({ template: 'choice', title: 'Big', options }, 'big', new Date());
    const full = pollCard(poll, snapshotOf(poll), { publicUrl: 'https://x' });
    expect(choiceSet(full, 'choice_q1').choices).toHaveLength(100);
    const small = pollCard(poll, snapshotOf(poll), { publicUrl: 'https://x', maxBytes: 6_000 });
    expect(cardBytes(small)).toBeLessThanOrEqual(6_000);
    expect(choiceSet(small, 'choice_q1')?.choices.length ?? 0).toBeLessThan(100);
    expect(JSON.stringify(small)).toMatch(/\+\d+ more/);
  });

  it('names up to 60 users to refresh for, and none for an anonymous poll', () => {
    const poll = buildPoll({ template: 'choice', title: 'T', options: ['A', 'B'] }, 'p', new Date());
    const ids = Array.from({ length: 70 }, (_, i) => `29:u${i}`);
    const card = pollCard(poll, snapshotOf(poll), { publicUrl: 'https://x', refreshUserIds: ids });
    expect(card.refresh.userIds).toEqual(ids.slice(0, 60));
    expect(card.refresh.action.verb).toBe('refresh');
    const anon = pollCard(poll, snapshotOf(poll), { publicUrl: 'https://x' });
    expect(anon.refresh.userIds).toBeUndefined();
  });

  it('offers take-back and close on the shared card, and in a personal view only what the viewer can do', () => {
    const poll = buildPoll({ template: 'choice', title: 'T', options: ['A', 'B'] }, 'p', new Date());
    const s = snapshotOf(poll, { o1: 1 });
    const shared = pollCard(poll, s, { publicUrl: 'https://x' });
    expect(executes(shared, 'retract')).toHaveLength(1);
    expect(executes(shared, 'close')).toHaveLength(1);
    const creator = pollCard(poll, s, { publicUrl: 'https://x', mine: {}, mayClose: true });
    expect([executes(creator, 'retract').length, executes(creator, 'close').length]).toEqual([0, 1]);
    const voter = pollCard(poll, s, { publicUrl: 'https://x', mine: { q1: ['o1'] }, mayClose: false });
    expect([executes(voter, 'retract').length, executes(voter, 'close').length]).toEqual([1, 0]);
    expect(JSON.stringify(voter)).toContain('✅ A');
  });

  it('shows the close time in each viewer zone, hides counts while results are hidden, and the winner once closed', () => {
    const poll = buildPoll(
      {
        template: 'choice',
        title: 'T',
        options: ['A', 'B'],
        closes_at: '2026-12-01T03:30:00Z',
        settings: { results_hidden: true },
      },
      'p',
      new Date(),
    );
    const open = JSON.stringify(
      pollCard(poll, snapshotOf(poll, { o2: 1 }), {
        publicUrl: 'https://x',
        mine: { q1: ['o2'] },
        now: new Date('2026-12-01T01:00:00Z'),
      }),
    );
    expect(open).toContain('closes {{TIME(2026-12-01T03:30:00Z)}}');
    expect(open).toContain('✅ B');
    expect(open).not.toContain('█');
    const closed = pollCard(poll, snapshotOf(poll, { o2: 1 }, 'closed'), { publicUrl: 'https://x' });
    expect(executes(closed, 'vote')).toHaveLength(0);
    expect(executes(closed, 'close')).toHaveLength(0);
    expect(JSON.stringify(closed)).toContain('🏆 B (1)');
  });

  it('heads a closed lunch poll with the decision: one place for a tie it broke, its sentence on no decision', () => {
    const { poll, closed, brokenTie, noDecision } = tiedLunch();
    const card = (s: typeof closed) => JSON.stringify(pollCard(poll, s, { publicUrl: 'https://x' }));
    expect(card(closed)).toContain('🏆 Pho / Ramen (1)');
    expect(card(brokenTie)).toContain('🏆 Ramen (1)');
    expect(card(brokenTie)).not.toContain('Pho / Ramen');
    expect(card(noDecision)).toContain(NO_DECISION_TEXT);
    expect(card(noDecision)).not.toContain('🏆');
  });

  it('shows the close time the snapshot carries when it moved (a lunch poll extended for its quorum)', () => {
    const poll = buildPoll(
      { template: 'choice', title: 'T', options: ['A', 'B'], closes_at: '2026-12-01T03:30:00Z' },
      'p',
      new Date(),
    );
    const extended = { ...snapshotOf(poll, {}), closes_at: '2026-12-01T03:40:00.000Z' };
    const card = JSON.stringify(
      pollCard(poll, extended, { publicUrl: 'https://x', now: new Date('2026-12-01T03:35:00Z') }),
    );
    expect(card).toContain('closes {{TIME(2026-12-01T03:40:00Z)}}');
    expect(card).not.toContain('03:30');
  });
});
