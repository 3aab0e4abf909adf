// End to end in a real Chromium (Debian's, through playwright-core): the whole app on the embedded stack.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { issueVoterToken } from '@livevote/core';
import { freePort } from '@livevote/core/testing';
import { parseConfig, type Running, start } from '@livevote/server';
import { pino } from 'pino';
import { type Browser, chromium, type Page, type WebSocketRoute } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
const TOKEN_SECRET = 'e2e-voter-token-secret-0123456789abcdef';
const SHOTS = new URL('../../test-results/screenshots/', import.meta.url).pathname;
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

if (!existsSync(CHROMIUM)) {
  console.warn(`[e2e] skipped: ${CHROMIUM} is missing (apt-get install chromium; .ci/run installs it)`);
}

describe.skipIf(!existsSync(CHROMIUM))('the web app in Chromium', () => {
  let running: Running;
  let browser: Browser;
  let base: string;
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lv-e2e-'));
    const port = await freePort();
    const config = parseConfig({
      PORT: String(port),
      HOST: '127.0.0.1',
      DATA_DIR: dataDir,
      LOG_LEVEL: 'silent',
      AUTH_SECRET: TOKEN_SECRET,
    });
    running = await start(config, pino({ level: 'silent' }));
    base = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
    await mkdir(SHOTS, { recursive: true });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  const vote = (emp: number, option: string, question = 'place') =>
    fetch(`${base}/api/polls/lunch-demo/votes?emp_no=${emp}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ question_id: question, option_ids: [option] }),
    });

  const count = (page: Page, option: string) =>
    page
      .locator(`[data-option="${option}"] .choice-count [aria-hidden="true"]`)
      .textContent({ timeout: 2_000 });
  const boardCount = (page: Page, name: string) =>
    page
      .locator('.board-main > .bars > .bar', { hasText: name })
      .locator('.bar-count')
      .textContent({ timeout: 2_000 });

  it('runs every page under the Content Security Policy (no inline script) without a single violation', async () => {
    const violations: string[] = [];
    const open = async (path: string) => {
      const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
      page.on('console', (m) => {
        if (/Content.Security.Policy/i.test(m.text())) violations.push(`${path}: ${m.text()}`);
      });
      page.on('pageerror', (e) => violations.push(`${path}: ${e.message}`));
      const res = await page.goto(`${base}${path}`);
      const csp = res?.headers()['content-security-policy'] ?? '';
      expect(csp).toContain("script-src 'self'");
      expect(csp).toContain("frame-ancestors 'none'");
      expect(csp).not.toContain('unsafe-inline');
      return page;
    };
    const board = await open('/board/lunch-demo');
    const voter = await open('/p/lunch-demo?emp_no=999');
    for (const p of [board, voter]) await p.locator('[data-connection="live"]').waitFor({ timeout: 10_000 });
    await voter.locator('[data-option="p1"]').click();
    await expect.poll(() => voter.locator('[data-option="p1"]').getAttribute('aria-pressed')).toBe('true');
    await voter.locator('[data-option="p1"]').click(); // and back: the tallies of later tests start clean
    await expect.poll(() => voter.locator('[data-option="p1"]').getAttribute('aria-pressed')).toBe('false');
    const admin = await open(`/admin#token=${running.adminToken}`);
    await admin.locator('.poll-list li').first().waitFor();
    expect(violations).toEqual([]);
    for (const p of [board, voter, admin]) await p.close();
  }, 60_000);

  it('moves the board and the other vote page when someone votes, and shows my choice', async () => {
    const board = await browser.newPage({ viewport: { width: 1920, height: 1080 }, locale: 'ko-KR' });
    const alice = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'ko-KR' });
    const bob = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
    await board.goto(`${base}/board/lunch-demo`);
    await alice.goto(`${base}/p/lunch-demo?emp_no=111`);
    await bob.goto(`${base}/p/lunch-demo?emp_no=222`);
    for (const p of [board, alice, bob])
      await p.locator('[data-connection="live"]').waitFor({ timeout: 10_000 });

    await alice.locator('[data-option="p2"]').click();
    await expect.poll(() => boardCount(board, '명동교자')).toMatch(/^1\b/);
    await expect.poll(() => count(bob, 'p2')).toBe('1');
    await expect.poll(() => alice.locator('[data-option="p2"]').getAttribute('aria-pressed')).toBe('true');
    // The lead changed: the board says so, in its news line.
    await expect.poll(() => board.locator('.news').textContent()).toContain('명동교자');
    // Places first, then the chosen place's menus.
    await expect.poll(() => alice.locator('[data-option="m4"]').count()).toBe(1);
    expect(await alice.locator('[data-option="m1"]').count()).toBe(0);

    // Changing and taking back: one tap each.
    await alice.locator('[data-option="p3"]').click();
    await expect.poll(() => count(bob, 'p3')).toBe('1');
    await expect.poll(() => count(bob, 'p2')).toBe('0');
    await alice.locator('[data-option="p3"]').click();
    await expect.poll(() => count(bob, 'p3')).toBe('0');

    // A reload remembers who I am and what I chose.
    await bob.locator('[data-option="p5"]').click();
    await expect.poll(() => count(alice, 'p5')).toBe('1');
    await bob.goto(`${base}/p/lunch-demo`);
    await expect.poll(() => bob.locator('[data-option="p5"]').getAttribute('aria-pressed')).toBe('true');

    await board.screenshot({ path: `${SHOTS}board.png` });
    await alice.screenshot({ path: `${SHOTS}vote.png`, fullPage: true });
    for (const p of [board, alice, bob]) await p.close();
  }, 60_000);

  it('takes a dish vote back with its place: a place taken back or changed leaves no hidden dish behind', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
    const ballots = async () =>
      (
        (await (await fetch(`${base}/api/polls/lunch-demo/my-votes?emp_no=444`)).json()) as {
          ballots: Record<string, string[]>;
        }
      ).ballots;
    await page.goto(`${base}/p/lunch-demo?emp_no=444`);
    await page.locator('[data-connection="live"]').waitFor({ timeout: 10_000 });
    await page.locator('[data-option="p2"]').click();
    await page.locator('[data-option="m4"]').click(); // a dish of p2
    await expect.poll(ballots).toEqual({ place: ['p2'], menu: ['m4'] });
    await page.locator('[data-option="p2"]').click(); // the place taken back: its dish goes too
    await expect.poll(ballots).toEqual({});
    await page.locator('[data-option="p2"]').click();
    await page.locator('[data-option="m4"]').click();
    await expect.poll(ballots).toEqual({ place: ['p2'], menu: ['m4'] });
    await page.locator('[data-option="p3"]').click(); // another place: p2's dish goes
    await expect.poll(ballots).toEqual({ place: ['p3'] });
    await page.locator('[data-option="p3"]').click(); // and back: the tallies of later tests start clean
    await expect.poll(ballots).toEqual({});
    expect(await page.locator('.notice-error').count()).toBe(0);
    await page.close();
  }, 60_000);

  it('votes from a phone on the office network: a plain-http page that is not a secure context', async () => {
    // office.test resolves to this server, but it is not localhost: the page is no secure context, so APIs that
    // need one (crypto.randomUUID among them) are missing, as on a phone at http://<office host>:5000.
    const port = new URL(base).port;
    const lan = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...FLAGS, '--host-resolver-rules=MAP office.test 127.0.0.1'],
    });
    try {
      const phone = await lan.newPage({ viewport: { width: 390, height: 844 } });
      await phone.goto(`http://office.test:${port}/p/lunch-demo?emp_no=333`);
      await phone.locator('[data-connection="live"]').waitFor({ timeout: 10_000 });
      expect(await phone.evaluate(() => window.isSecureContext)).toBe(false);
      expect(await phone.evaluate(() => typeof crypto.randomUUID)).toBe('undefined');
      await phone.locator('[data-option="p1"]').click();
      await expect
        .poll(async () => {
          const r = await fetch(`${base}/api/polls/lunch-demo/my-votes?emp_no=333`);
          return ((await r.json()) as { ballots: Record<string, string[]> }).ballots.place;
        })
        .toEqual(['p1']);
      expect(await phone.locator('.notice-error').count()).toBe(0);
      await phone.locator('[data-option="p1"]').click(); // and back: the tallies of later tests start clean
      await expect.poll(() => phone.locator('[data-option="p1"]').getAttribute('aria-pressed')).toBe('false');
    } finally {
      await lan.close();
    }
  }, 60_000);

  it('falls back when the server drops the socket, and keeps updating (SSE, then polling)', async () => {
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    let dropping = false;
    let current: WebSocketRoute | undefined;
    await page.routeWebSocket(/\/ws\/votes/, (ws) => {
      current = ws;
      if (dropping) return void ws.close({ code: 1012, reason: 'dropped' });
      ws.connectToServer();
    });
    await page.goto(`${base}/p/lunch-demo?emp_no=333`);
    await page.locator('[data-connection="live"]').waitFor();
    const before = Number(await count(page, 'p4'));

    dropping = true;
    await current?.close({ code: 1012, reason: 'dropped' });
    await page.locator('[data-connection="sse"]').waitFor({ timeout: 15_000 });
    await vote(9001, 'p4');
    await expect.poll(() => count(page, 'p4'), { timeout: 10_000 }).toBe(String(before + 1));

    // No SSE either (a proxy that buffers streams): plain polling with ETag still gets there.
    await page.route('**/events', (route) => route.abort());
    await page.evaluate(() => undefined);
    await page.reload();
    await expect
      .poll(() => page.locator('.conn').getAttribute('data-connection'), { timeout: 15_000 })
      .toBe('polling');
    await vote(9002, 'p4');
    await expect.poll(() => count(page, 'p4'), { timeout: 15_000 }).toBe(String(before + 2));
    await page.close();
  }, 60_000);

  it('votes from a signed chat link (?token=) as that chat user, and keeps the token out of the address bar', async () => {
    const token = issueVoterToken(TOKEN_SECRET, { platform: 'slack', tenant: 'T1', user: 'U42' }, 600);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    await page.goto(`${base}/p/lunch-demo?token=${encodeURIComponent(token)}`);
    await page.locator('[data-connection="live"]').waitFor();
    expect(page.url()).not.toContain('token=');
    const before = Number(await count(page, 'p1'));
    await page.locator('[data-option="p1"]').click();
    await expect.poll(() => count(page, 'p1')).toBe(String(before + 1));
    const csv = await (
      await fetch(`${base}/api/polls/lunch-demo/export.csv`, {
        headers: { authorization: `Bearer ${running.adminToken}` },
      })
    ).text();
    expect(csv).toContain('slack:T1:U42');
    await page.close();
  }, 60_000);

  it('runs the admin page on a phone over plain http: fits the screen, copies by hand, leaves a cleared box empty', async () => {
    const port = new URL(base).port;
    const lan = await chromium.launch({
      executablePath: CHROMIUM,
      args: [...FLAGS, '--host-resolver-rules=MAP office.test 127.0.0.1'],
    });
    try {
      const long = `Lunchtomorrowatthenewplacenexttothestation${Date.now()}`;
      await fetch(`${base}/api/polls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${running.adminToken}` },
        body: JSON.stringify({ template: 'choice', title: long, options: ['A', 'B'] }),
      });
      const phone = await lan.newPage({ viewport: { width: 360, height: 740 }, locale: 'en-US' });
      await phone.goto(`http://office.test:${port}/admin#token=${running.adminToken}`);
      const row = phone.locator('.poll-list li', { hasText: long });
      await row.waitFor({ timeout: 10_000 });
      // Nothing wider than the screen, a title with no spaces included.
      expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(360);
      // No clipboard outside a secure context: the link is shown to copy by hand, never "Copied".
      expect(await phone.evaluate(() => window.isSecureContext)).toBe(false);
      await row.getByRole('button', { name: /Copy.*Board/ }).click();
      await phone.locator('.notice', { hasText: 'Copy this link by hand' }).waitFor({ timeout: 5_000 });
      expect(await phone.locator('.notice', { hasText: 'Copied' }).count()).toBe(0);
      // The places box, once cleared, stays empty for the admin's own list.
      const places = phone.getByLabel('Places', { exact: true });
      await expect.poll(() => places.inputValue(), { timeout: 10_000 }).not.toBe('');
      await places.fill('');
      await phone.waitForTimeout(300); // a refill would come with the next render
      expect(await places.inputValue()).toBe('');
    } finally {
      await lan.close();
    }
  }, 60_000);

  it('creates a poll in the admin page, and shows the winner on the board once it is closed', async () => {
    const admin = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    await admin.goto(`${base}/admin#token=${running.adminToken}`);
    await admin.locator('.poll-list li').first().waitFor();
    expect(new URL(admin.url()).hash).toBe(''); // the token left the address bar
    await admin.screenshot({ path: `${SHOTS}admin.png`, fullPage: true });
    await admin.getByLabel('Plain choice').check();
    await admin.getByLabel('Title').fill('Team dinner');
    await admin.getByLabel('Options, one per line').fill('BBQ\nPizza\nBibimbap');
    await admin.getByRole('button', { name: 'Create poll' }).click();
    await expect.poll(() => admin.locator('.poll-list li', { hasText: 'Team dinner' }).count()).toBe(1);
    // The new poll's links and QR show where the admin is looking, and the form is empty again: a second click
    // cannot make it twice.
    await expect.poll(() => admin.locator('.created').textContent()).toContain('Team dinner');
    expect(await admin.locator('.created').isVisible()).toBe(true);
    expect(await admin.locator('.created a', { hasText: '/board/' }).count()).toBe(1);
    expect(await admin.getByLabel('Title').inputValue()).toBe('');
    await admin.getByRole('button', { name: 'Create poll' }).click();
    await expect.poll(() => admin.locator('#title-error').count()).toBe(1);
    // A close time in the past is refused before anything is sent.
    await admin.getByLabel('Title').fill('Past');
    await admin.getByLabel('Options, one per line').fill('A\nB');
    await admin.getByLabel('Closes at (optional)').fill('2020-01-01T12:00');
    await admin.getByRole('button', { name: 'Create poll' }).click();
    await expect.poll(() => admin.locator('#closes-error').textContent()).toContain('has passed');
    expect(await admin.locator('.poll-list li', { hasText: 'Team dinner' }).count()).toBe(1);

    const { polls } = (await (await fetch(`${base}/api/polls`)).json()) as {
      polls: { id: string; title: string }[];
    };
    const id = polls.find((p) => p.title === 'Team dinner')?.id as string;
    const board = await browser.newPage({ viewport: { width: 1920, height: 1080 }, locale: 'en-US' });
    await board.goto(`${base}/board/${id}`);
    await board.locator('[data-connection="live"]').waitFor();
    for (const [emp, o] of [
      [1, 'o2'],
      [2, 'o2'],
      [3, 'o1'],
    ] as const) {
      await fetch(`${base}/api/polls/${id}/votes?emp_no=${emp}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ question_id: 'q1', option_ids: [o] }),
      });
    }
    const closeNow = admin
      .locator('.poll-list li', { hasText: 'Team dinner' })
      .getByRole('button', { name: 'Close now' });
    // From the keyboard: the question takes the focus (on Cancel), Escape dismisses it and gives the focus back.
    await closeNow.focus();
    await admin.keyboard.press('Enter');
    await expect.poll(() => admin.evaluate(() => document.activeElement?.textContent)).toBe('Cancel');
    await admin.keyboard.press('Escape');
    await expect.poll(() => admin.evaluate(() => document.activeElement?.textContent)).toBe('Close now');
    expect(await admin.locator('.confirm').count()).toBe(0);
    await closeNow.click();
    // "Close now" asks first.
    await admin
      .locator('.poll-list li', { hasText: 'Team dinner' })
      .getByRole('button', { name: 'Yes, close it' })
      .click();
    await expect.poll(() => board.locator('.winner-name').textContent(), { timeout: 10_000 }).toBe('Pizza');
    await board.screenshot({ path: `${SHOTS}winner.png` });

    const voter = await browser.newPage({ viewport: { width: 390, height: 844 }, locale: 'en-US' });
    await voter.goto(`${base}/p/${id}?emp_no=4`);
    await expect.poll(() => voter.locator('.notice').first().textContent()).toContain('closed');
    expect(await voter.locator('[data-option="o1"]').isDisabled()).toBe(true);
    for (const p of [admin, board, voter]) await p.close();
  }, 60_000);
});
