import { buildPoll, buildSnapshot } from '@livevote/core';
import { NO_DECISION_TEXT, tiedLunch } from '@livevote/core/testing';
import { describe, expect, it } from 'vitest';
import { MAX_BLOCKS, MAX_TEXT, parseVoteValue, renderPoll, voteValue } from './render-poll.ts';

const opts = { publicUrl: 'https://lunch.example', voters: {} as Record<string, string[]> };

function allTexts(value: unknown, out: string[] = []): string[] {
  if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'text' && typeof v === 'string') out.push(v);
      else allTexts(v, out);
    }
  }
  return out;
}

describe('renderPoll', () => {
  it('gives each of a few options a line with a bar, count and a vote button carrying poll and option ids', () => {
    const poll = buildPoll(
      { template: 'choice', title: 'Lunch?', options: ['Pizza', 'Sushi'] },
      'abc',
      new Date(),
    );
    const s = buildSnapshot(poll, {
      version: 3,
      status: 'open',
      totalVoters: 3,
      counts: { o1: 2, o2: 1, '#q1': 3 },
    });
    const { blocks, text } = renderPoll(poll, s, { ...opts, voters: { o1: ['slack:T1:U1', 'emp:42'] } });
    const json = JSON.stringify(blocks);
    expect(json).toContain(`"value":"${voteValue('abc', 'o1')}"`);
    expect(json).toContain('<@U1> #42');
    expect(json).toContain('2 (67%)');
    expect(text).toContain('Pizza');
  });

  it('heads a closed lunch poll with the decision: one place for a tie it broke, its sentence on no decision', () => {
    const { poll, closed, brokenTie, noDecision } = tiedLunch();
    const section = (s: typeof closed) =>
      allTexts(renderPoll(poll, s, opts).blocks).find((t) => t.includes('trophy') || t.includes('No '));
    expect(section(closed)).toBe(':trophy: *Pho / Ramen* (1)'); // no rules decided: a tie is a tie
    expect(section(brokenTie)).toBe(':trophy: *Ramen* (1)');
    expect(section(noDecision)).toBe(NO_DECISION_TEXT);
  });

  it('shows the close time the snapshot carries when it moved (a lunch poll extended for its quorum)', () => {
    const poll = buildPoll(
      { template: 'choice', title: 'Lunch?', options: ['Pizza', 'Sushi'], closes_at: '2026-12-01T03:30:00Z' },
      'abc',
      new Date('2026-12-01T03:00:00Z'),
    );
    const moved = '2026-12-01T03:40:00.000Z';
    const s = buildSnapshot(poll, {
      version: 1,
      status: 'open',
      totalVoters: 0,
      counts: {},
      closesAt: moved,
    });
    expect(s.closes_at).toBe(moved);
    const json = JSON.stringify(renderPoll(poll, s, opts).blocks);
    expect(json).toContain(`closes <!date^${Date.parse(moved) / 1000}^{time}|${moved}>`);
    expect(json).not.toContain('03:30');
  });

  it('stays within 50 blocks and 3,000 characters with 100 options, voting through a select menu', () => {
    const options = Array.from({ length: 100 }, (_, i) => `Option number ${i} ${'x'.repeat(60)}`);
    const poll = buildPoll({ template: 'choice', title: 'Big', options }, 'big', new Date());
    const counts = Object.fromEntries(poll.questions[0]?.options.map((o, i) => [o.id, 100 - i]) ?? []);
    const s = buildSnapshot(poll, { version: 1, status: 'open', totalVoters: 5050, counts });
    const { blocks } = renderPoll(poll, s, opts);
    expect(blocks.length).toBeLessThanOrEqual(MAX_BLOCKS);
    expect(allTexts(blocks).every((t) => t.length <= MAX_TEXT)).toBe(true);
    const select = blocks
      .flatMap((b) => b.elements ?? [])
      .find((e: { type: string }) => e.type === 'static_select');
    expect(select.options).toHaveLength(100);
    expect(select.options.every((o: { text: { text: string } }) => o.text.text.length <= 75)).toBe(true);
  });

  it('groups a lunch poll menus by place in the select, and drops vote controls once closed', () => {
    const poll = buildPoll(
      {
        template: 'lunch',
        places: [
          { name: 'A', menus: [{ name: 'a1' }] },
          { name: 'B', menus: [{ name: 'b1' }, { name: 'b2' }] },
        ],
      },
      'l1',
      new Date(),
    );
    const open = renderPoll(
      poll,
      buildSnapshot(poll, { version: 1, status: 'open', totalVoters: 0, counts: {} }),
      opts,
    ).blocks;
    const select = open
      .flatMap((b) => b.elements ?? [])
      .find((e: { action_id?: string }) => e.action_id === 'vote-select-menu');
    expect(select.option_groups.map((g: { label: { text: string } }) => g.label.text)).toEqual(['A', 'B']);
    const closed = renderPoll(
      poll,
      buildSnapshot(poll, { version: 2, status: 'closed', totalVoters: 1, counts: { p2: 1 } }),
      opts,
    ).blocks;
    const json = JSON.stringify(closed);
    expect(json).not.toContain('"action_id":"vote-');
    expect(json).toContain(':trophy: *B*');
  });

  it('names no voter in an anonymous or hidden poll and escapes user text', () => {
    const poll = buildPoll(
      { template: 'choice', title: 'T', options: ['<b>&', 'B'], settings: { results_hidden: true } },
      'h',
      new Date(),
    );
    const s = buildSnapshot(poll, { version: 1, status: 'open', totalVoters: 1, counts: { o1: 1 } });
    const json = JSON.stringify(renderPoll(poll, s, { ...opts, voters: { o1: ['slack:T:U5'] } }).blocks);
    expect(json).not.toContain('U5');
    expect(json).not.toMatch(/\d voters?/); // nor how many voted: the poll does not show its turnout
    expect(json).toContain('&lt;b&gt;&amp;');
  });

  it('lists every option of a long poll in its summary, those without votes too', () => {
    const options = Array.from({ length: 30 }, (_, i) => `Place ${i}`);
    const poll = buildPoll({ template: 'choice', title: 'Many', options }, 'many', new Date());
    const s = buildSnapshot(poll, { version: 1, status: 'open', totalVoters: 3, counts: { o3: 2, o7: 1 } });
    const text = allTexts(renderPoll(poll, s, opts).blocks).join('\n');
    for (const o of options) expect(text).toContain(`• ${o} — `);
    expect(text.indexOf('Place 2 — 2')).toBeLessThan(text.indexOf('Place 6 — 1')); // most votes first
    // 100 long options still fit: split over several sections, each within Slack's limit
    const big = buildPoll(
      {
        template: 'choice',
        title: 'Big',
        options: Array.from({ length: 100 }, (_, i) => `${i} ${'y'.repeat(70)}`),
      },
      'big2',
      new Date(),
    );
    const rendered = renderPoll(
      big,
      buildSnapshot(big, { version: 1, status: 'open', totalVoters: 0, counts: {} }),
      opts,
    );
    const all = allTexts(rendered.blocks).join('\n');
    for (let i = 0; i < 100; i++) expect(all).toContain(`• ${i} y`);
  });

  it('escapes the title in the notification text, and offers "who voted" only where voters are shown', () => {
    const poll = buildPoll(
      { template: 'choice', title: '<!here> Fish & Chips', options: ['A', 'B'] },
      'e',
      new Date(),
    );
    const s = buildSnapshot(poll, { version: 1, status: 'open', totalVoters: 0, counts: {} });
    const msg = renderPoll(poll, s, opts);
    expect(msg.text).toContain('&lt;!here&gt; Fish &amp; Chips');
    expect(JSON.stringify(msg.blocks)).toContain('"who-voted"');
    const anon = buildPoll(
      {
        template: 'choice',
        title: 'T',
        options: ['A', 'B'],
        settings: { anonymous: true, allow_add_options: true },
      },
      'a',
      new Date(),
    );
    const anonBlocks = JSON.stringify(
      renderPoll(anon, buildSnapshot(anon, { version: 1, status: 'open', totalVoters: 0, counts: {} }), opts)
        .blocks,
    );
    expect(anonBlocks).not.toContain('"who-voted"');
    expect(anonBlocks).toContain('"add-option"');
  });

  it('parses only well-formed button values', () => {
    expect(parseVoteValue('abc|o1')).toEqual({ pollId: 'abc', optionId: 'o1' });
    expect(parseVoteValue('abc|o1|x')).toBeNull();
    expect(parseVoteValue('a b|o1')).toBeNull();
  });
});
