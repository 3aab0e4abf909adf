// The board, vote page and admin as an office has them, in a real Chromium: a 12-option poll with long Korean
// names and English names, on a 720p TV, a 1080p TV and a 4K TV. Nothing may overflow the screen or another
// option, every option is on screen or counted in "+N more", text a person reads is ≥ 32 px at 1080p, the board
// says "connection lost" within 3 s of the server stopping, keyboard voting works twice in a row, and axe finds no
// serious or critical accessibility problem. Screenshots go to test-results/screenshots/.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PollResponse } from '@livevote/core/protocol';
import { freePort } from '@livevote/core/testing';
import { parseConfig, type Running, start } from '@livevote/server';
import { pino } from 'pino';
import { type Browser, type BrowserContext, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const SHOTS = new URL('../../test-results/screenshots/', import.meta.url).pathname;
const AXE = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Twelve places an office really has: long Korean names, long English names, a few menus each. */
export const OFFICE_PLACES = [
  ['할머니손칼국수 을지로본점', "Grandma's Hand-Cut Noodles, Euljiro", ['바지락칼국수', '수제비']],
  ['명동교자 본점', 'Myeongdong Kyoja Main Store', ['칼국수', '만두']],
  ['스시오마카세 하루 (예약 필수)', 'Sushi Omakase Haru (reservation only)', ['런치 오마카세']],
  ['을지로 골뱅이 골목 원조집', 'The Original Whelk Alley House', ['골뱅이무침']],
  ['전주비빔밥 & 돌솥밥 전문점', 'Jeonju Bibimbap and Stone Pot Rice', ['돌솥비빔밥', '육회비빔밥']],
  ['샐러디 광화문 D타워점', 'Salady Gwanghwamun D-Tower', ['콥샐러드', '연어 포케']],
  ['평양면옥 냉면 전문', 'Pyongyang Myeonok Cold Noodles', ['물냉면', '비빔냉면']],
  ['인도 커리 하우스 타지마할', 'Taj Mahal Indian Curry House', ['버터치킨', '난']],
  ['베트남 쌀국수 포하노이', 'Pho Hanoi Vietnamese Noodle Soup', ['양지쌀국수']],
  ['순대국밥 24시 청진동 해장국', 'Cheongjin-dong 24h Sundae Gukbap', ['순대국밥', '해장국']],
  ['수제버거 브루클린 더 버거 조인트', 'Brooklyn The Burger Joint', ['치즈버거']],
  ['중화요리 홍콩반점0410 종각점', 'Hong Kong Banjeom 0410 Jonggak', ['짜장면', '짬뽕', '탕수육']],
] as const;

const VIEWPORTS = [
  { name: '720p', width: 1280, height: 720 },
  { name: '1080p', width: 1920, height: 1080 },
  { name: '4k', width: 3840, height: 2160 },
] as const;

interface Layout {
  outside: string[];
  overlaps: string[];
  spill: string[];
  shown: number;
  more: number;
  smallText: string[];
}

/** In the page: where the board's elements are, measured. */
function measureBoard(minPx: number): Layout {
  const vw = innerWidth;
  const vh = innerHeight;
  const visible = (el: Element) => {
    if (el.closest('.sr-only')) return false;
    const r = el.getBoundingClientRect();
    return r.width > 0 && r.height > 0;
  };
  const name = (el: Element) =>
    `${el.tagName.toLowerCase()}.${[...el.classList].join('.')} "${(el.textContent ?? '').slice(0, 30)}"`;
  const all = [...document.querySelectorAll('.board *')].filter(visible);
  const outside = all
    .filter((el) => {
      const r = el.getBoundingClientRect();
      return r.left < -0.5 || r.top < -0.5 || r.right > vw + 0.5 || r.bottom > vh + 0.5;
    })
    .map(name);
  const bars = [...document.querySelectorAll('.board-main .bar')].filter(visible);
  const overlaps: string[] = [];
  const spill: string[] = [];
  bars.forEach((a, i) => {
    const ra = a.getBoundingClientRect();
    bars.slice(i + 1).forEach((b) => {
      const rb = b.getBoundingClientRect();
      const x = Math.min(ra.right, rb.right) - Math.max(ra.left, rb.left);
      const y = Math.min(ra.bottom, rb.bottom) - Math.max(ra.top, rb.top);
      if (x > 0.5 && y > 0.5) overlaps.push(`${name(a)} / ${name(b)}`);
    });
    for (const child of a.querySelectorAll('*')) {
      if (!visible(child)) continue;
      const rc = child.getBoundingClientRect();
      if (
        rc.left < ra.left - 0.5 ||
        rc.right > ra.right + 0.5 ||
        rc.top < ra.top - 0.5 ||
        rc.bottom > ra.bottom + 0.5
      )
        spill.push(name(child));
    }
  });
  const mainBars = document.querySelectorAll('.board-main > .bars > .bar[data-option]');
  const more = document.querySelector('.board-main > .bars > .bar-more') as HTMLElement | null;
  const smallText = all
    .filter((el) => !el.closest('.lang'))
    .filter((el) => [...el.childNodes].some((n) => n.nodeType === 3 && (n.textContent ?? '').trim() !== ''))
    .filter((el) => Number.parseFloat(getComputedStyle(el).fontSize) < minPx - 0.01)
    .map((el) => `${name(el)} ${getComputedStyle(el).fontSize}`);
  return {
    outside,
    overlaps,
    spill,
    shown: mainBars.length,
    more: Number(more?.dataset.more ?? 0),
    smallText,
  };
}

async function axeProblems(page: Page): Promise<string[]> {
  await page.addScriptTag({ path: AXE });
  const found = await page.evaluate(async () => {
    const axe = (window as unknown as { axe: { run(ctx: Document, o: object): Promise<AxeResults> } }).axe;
    type AxeResults = { violations: { id: string; impact: string; nodes: { target: string[] }[] }[] };
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      where: v.nodes.map((n) => n.target.join(' ')),
    }));
  });
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.where.slice(0, 3).join(', ')}`);
}

describe.skipIf(!existsSync(CHROMIUM))('pages for real offices, in Chromium', () => {
  let running: Running;
  let browser: Browser;
  let base: string;
  let dataDir: string;
  let port: number;
  let pollId: string;

  const boot = async () => {
    running = await start(
      parseConfig({
        PORT: String(port),
        HOST: '127.0.0.1',
        DATA_DIR: dataDir,
        LOG_LEVEL: 'silent',
        SEED_DEMO: 'false',
        ABUSE_LIMITS: 'off',
      }),
      pino({ level: 'silent' }),
    );
  };
  const vote = (emp: number, question: string, option: string) =>
    fetch(`${base}/api/polls/${pollId}/votes?emp_no=${emp}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question_id: question, option_ids: [option] }),
    });

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lv-screens-'));
    port = await freePort();
    base = `http://127.0.0.1:${port}`;
    await boot();
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    await mkdir(SHOTS, { recursive: true });
    const created = await fetch(`${base}/api/polls`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${running.adminToken}` },
      body: JSON.stringify({
        template: 'lunch',
        title: '오늘 점심 어디로 갈까요? 금요일 팀 점심 (Friday team lunch)',
        places: OFFICE_PLACES.map(([name, en, menus]) => ({
          name,
          label_en: en,
          menus: menus.map((m) => ({ name: m })),
        })),
        closes_at: new Date(Date.now() + 3 * 3600_000).toISOString(),
      }),
    });
    expect(created.status).toBe(201);
    pollId = ((await created.json()) as PollResponse).poll.id;
    // A morning's votes: every place gets some, 명동교자 leads, menus too.
    const places = [2, 2, 2, 2, 2, 2, 1, 1, 3, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 1, 2, 5, 5, 3];
    for (const [i, p] of places.entries()) expect((await vote(100 + i, 'place', `p${p}`)).status).toBe(200);
    for (const [i, m] of ['m3', 'm3', 'm4', 'm3'].entries())
      expect((await vote(100 + i, 'menu', m)).status).toBe(200);
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const openBoard = async (
    ctx: Browser | BrowserContext,
    width: number,
    height: number,
    locale = 'ko-KR',
  ) => {
    const page =
      'newContext' in ctx ? await ctx.newPage({ viewport: { width, height }, locale }) : await ctx.newPage();
    await page.setViewportSize({ width, height });
    await page.goto(`${base}/board/${pollId}`);
    await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
    await page.evaluate(() => document.fonts.ready.then(() => undefined));
    await page.waitForTimeout(800); // bars finish their transition
    return page;
  };

  for (const vp of VIEWPORTS) {
    it(`fits the board on a ${vp.name} screen (${vp.width}×${vp.height}): nothing spills, every option counted`, async () => {
      const page = await openBoard(browser, vp.width, vp.height);
      // 32 px at 1080p is the smallest readable text; it scales with the screen.
      const layout = await page.evaluate(
        measureBoard,
        32 * Math.min(vp.width / 1920, vp.height / 1080) - 0.5,
      );
      expect(layout.outside).toEqual([]);
      expect(layout.overlaps).toEqual([]);
      expect(layout.spill).toEqual([]);
      expect(layout.smallText).toEqual([]);
      expect(layout.shown + layout.more).toBe(OFFICE_PLACES.length);
      expect(layout.shown).toBeGreaterThanOrEqual(6);
      // The join link is there, readable, beside the QR code.
      expect(await page.getByTestId('join-url').textContent()).toContain(`/p/${pollId}`);
      expect(await page.title()).toContain('오늘 점심');
      await page.screenshot({ path: `${SHOTS}board-${vp.name}.png` });
      await page.close();
    }, 60_000);
  }

  it('keeps the title clear and the menus in place when the lead changes or ties, and speaks only real changes', async () => {
    const page = await openBoard(browser, 1920, 1080, 'en-US');
    const titleBox = await page.locator('.board-title').boundingBox();
    const menusBox = await page.getByTestId('menus').boundingBox();
    const announcer = page.getByTestId('announcer');
    expect(await announcer.textContent()).toBe(''); // nothing to say on load
    await vote(100, 'place', 'p2'); // a vote for the current leader: no news for a screen reader
    await page.waitForTimeout(1_000);
    expect(await announcer.textContent()).toBe('');
    // 명동교자 has 8; two more for 스시 (4 → 6) and 을지로 (2 → ...) make a race. Tie it, then pass it.
    for (const emp of [300, 301, 302, 303]) expect((await vote(emp, 'place', 'p3')).status).toBe(200);
    await expect.poll(() => page.locator('.news').getAttribute('data-news')).toBe('tie');
    await expect.poll(() => announcer.textContent()).toContain("It's a tie");
    expect(await page.getByTestId('menus').boundingBox()).toEqual(menusBox);
    expect(await page.locator('.bar-leader').count()).toBe(2);
    expect((await vote(304, 'place', 'p3')).status).toBe(200);
    await expect.poll(() => page.locator('.news').getAttribute('data-news')).toBe('new-leader');
    await expect.poll(() => announcer.textContent()).toContain('New leader');
    expect(await page.locator('.board-title').boundingBox()).toEqual(titleBox);
    expect(await page.getByTestId('menus').boundingBox()).toEqual(menusBox);
    // Any element drawn over the title would be the topmost element at its centre.
    const covered = await page.evaluate(() => {
      const t = document.querySelector('.board-title') as HTMLElement;
      const r = t.getBoundingClientRect();
      const top = document.elementFromPoint(r.left + 20, r.top + r.height / 2);
      return !t.contains(top);
    });
    expect(covered).toBe(false);
    await page.close();
  }, 60_000);

  it('draws the chart from the server history after a reload, not a block from the current count', async () => {
    const page = await openBoard(browser, 1920, 1080);
    const points = Number(await page.locator('.chart svg').getAttribute('data-points'));
    expect(points).toBeGreaterThan(10); // zero, ~24 ballots, now
    await page.close();
  }, 60_000);

  it('lets a keyboard user vote twice in a row: focus stays on the choice', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
    await page.goto(`${base}/p/${pollId}?emp_no=777`);
    await page.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
    await page.locator('[data-option="p7"]').focus();
    await page.keyboard.press('Enter');
    expect(await page.evaluate(() => (document.activeElement as HTMLElement | null)?.dataset.option)).toBe(
      'p7',
    );
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('[data-option="p8"]').getAttribute('aria-pressed')).toBe('true');
    expect(await page.locator('[data-option="p7"]').getAttribute('aria-pressed')).toBe('false');
    // The page shows a tap at once and sends it after the one before: the server has it a moment later.
    const mine = async () => (await fetch(`${base}/api/polls/${pollId}/my-votes?emp_no=777`)).json();
    await expect.poll(mine).toEqual({ ballots: { place: ['p8'] } });
    await page.screenshot({ path: `${SHOTS}vote-12-options.png`, fullPage: true });
    await page.close();
  }, 60_000);

  it('has no serious or critical accessibility problem on the board, the vote page and the admin', async () => {
    const ctx = await browser.newContext({ bypassCSP: true, locale: 'ko-KR' }); // lets axe's script in
    const problems: string[] = [];
    const board = await openBoard(ctx, 1920, 1080);
    problems.push(...(await axeProblems(board)).map((p) => `board: ${p}`));
    const voter = await ctx.newPage();
    await voter.setViewportSize({ width: 390, height: 844 });
    await voter.goto(`${base}/p/${pollId}?emp_no=778`);
    await voter.locator('[data-connection="live"]').waitFor({ timeout: 15_000 });
    problems.push(...(await axeProblems(voter)).map((p) => `vote: ${p}`));
    const admin = await ctx.newPage();
    await admin.setViewportSize({ width: 1280, height: 900 });
    await admin.goto(`${base}/admin#token=${running.adminToken}`);
    await admin.locator('.poll-list li').first().waitFor();
    problems.push(...(await axeProblems(admin)).map((p) => `admin: ${p}`));
    expect(problems).toEqual([]);
    await ctx.close();
  }, 90_000);

  it('says "connection lost" within 3 s of the server stopping, and comes back live by itself', async () => {
    const page = await openBoard(browser, 1920, 1080);
    const stopped = Date.now();
    const stopping = running.stop();
    await page.locator('[data-connection="offline"]').waitFor({ timeout: 3_000 });
    const after = Date.now() - stopped;
    expect(after).toBeLessThan(3_000);
    expect(await page.locator('.board').getAttribute('class')).toContain('board-offline');
    expect(await page.locator('.presence').count()).toBe(0); // no stale "N watching"
    await stopping;
    await page.screenshot({ path: `${SHOTS}board-offline.png` });
    await boot(); // the same port and data: the board finds it again without a reload
    await page.locator('[data-connection="live"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('.board').getAttribute('class')).not.toContain('board-offline');
    await page.close();
  }, 60_000);
});
