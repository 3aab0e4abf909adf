// The lunch pages in a real Chromium (Debian's, through playwright-core) on the embedded stack: the places row editor,
// the history of decided polls, and the decision with its headcount on the board's winner screen.
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CatalogResponse, PollResponse } from '@livevote/core';
import { freePort } from '@livevote/core/testing';
import { parseConfig, type Running, start } from '@livevote/server';
import { pino } from 'pino';
import { type Browser, chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const CHROMIUM = '/usr/bin/chromium';
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

if (!existsSync(CHROMIUM)) console.warn(`[e2e] skipped: ${CHROMIUM} is missing (apt-get install chromium)`);

describe.skipIf(!existsSync(CHROMIUM))('the lunch pages in Chromium', () => {
  let running: Running;
  let browser: Browser;
  let base: string;
  let dataDir: string;
  const admin = () => ({ authorization: `Bearer ${running.adminToken}`, 'content-type': 'application/json' });
  const catalog = async () =>
    ((await (await fetch(`${base}/api/catalog/places?include_inactive=true`)).json()) as CatalogResponse)
      .places;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'lv-e2e-lunch-'));
    const port = await freePort();
    running = await start(
      parseConfig({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
      pino({ level: 'silent' }),
    );
    base = `http://127.0.0.1:${port}`;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: FLAGS });
  }, 120_000);

  afterAll(async () => {
    await browser?.close();
    await running?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('edits the places catalog row by row', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    await page.goto(`${base}/admin#token=${running.adminToken}`); // keeps the token for this tab
    await page.locator('a[href="/admin/places"]').click();
    const rows = page.locator('.place-row');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBe(5);
    const first = rows.first();
    const id = await first.getAttribute('data-place');
    await first.getByLabel('Walk (min)').fill('3');
    await first.getByLabel('Cuisine tags').fill('korean, quick');
    await first.getByRole('button', { name: 'Add menu' }).click();
    await first.getByLabel('Menus 4 Name').fill('쫄면');
    await first.getByRole('button', { name: 'Save' }).click();
    await first.getByText('Saved').waitFor({ timeout: 5_000 });
    const saved = (await catalog()).find((p) => p.id === id);
    expect(saved).toMatchObject({ walk_minutes: 3, tags: ['korean', 'quick'] });
    expect(saved?.menus.map((m) => m.name)).toContain('쫄면');
    await page.getByRole('button', { name: 'Add a place' }).click();
    await expect.poll(() => rows.count()).toBe(6);
    await page.close();
  }, 60_000);

  it('imports a CSV Korean Excel saved (CP949), shows the imported values at once, and refuses a walk time it cannot read', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    await page.goto(`${base}/admin#token=${running.adminToken}`);
    await page.locator('a[href="/admin/places"]').click();
    const rows = page.locator('.place-row');
    await expect.poll(() => rows.count(), { timeout: 10_000 }).toBeGreaterThan(0);
    const first = rows.first();
    const id = (await first.getAttribute('data-place')) as string;
    // 한우국밥 in CP949 (what Excel writes for "CSV" on a Korean Windows), in an otherwise ASCII file.
    const hanwoo = Buffer.from([0xc7, 0xd1, 0xbf, 0xec, 0xb1, 0xb9, 0xb9, 0xe4]);
    const csv = Buffer.concat([
      Buffer.from(`id,name,label_en,tags,price,walk_minutes,dietary,url,active,menus\r\n${id},`),
      hanwoo,
      Buffer.from(',Beef soup,soup,1,4,,,true,\r\n'),
    ]);
    await page
      .locator('input[type=file]')
      .setInputFiles({ name: 'places.csv', mimeType: 'text/csv', buffer: csv });
    await page.getByText('1 updated').waitFor({ timeout: 10_000 });
    expect((await catalog()).find((p) => p.id === id)?.name).toBe('한우국밥');
    // The row shows what the server now holds, so saving it does not put the old values back.
    await expect.poll(() => first.getByLabel('Name', { exact: true }).inputValue()).toBe('한우국밥');
    await first.getByLabel('Cuisine tags').fill('soup, beef');
    await first.getByRole('button', { name: 'Save' }).click();
    await first.getByText('Saved').waitFor({ timeout: 5_000 });
    expect((await catalog()).find((p) => p.id === id)).toMatchObject({
      name: '한우국밥',
      label_en: 'Beef soup',
      walk_minutes: 4,
      tags: ['soup', 'beef'],
    });
    // "5분" is not a number of minutes: refused on the page, nothing sent, the stored 4 kept.
    await first.getByLabel('Walk (min)').fill('5분');
    await first.getByRole('button', { name: 'Save' }).click();
    await first.getByText('Walk (min) takes whole minutes').waitFor({ timeout: 5_000 });
    expect((await catalog()).find((p) => p.id === id)?.walk_minutes).toBe(4);
    await page.close();
  }, 60_000);

  it('lists the visits the polls decided; the board and the vote page show the decision and headcount', async () => {
    const [a, b] = await catalog();
    const created = (await (
      await fetch(`${base}/api/polls`, {
        method: 'POST',
        headers: admin(),
        body: JSON.stringify({ template: 'lunch', title: 'History lunch', place_ids: [a?.id, b?.id] }),
      })
    ).json()) as PollResponse;
    const id = created.poll.id;
    for (const emp of ['1', '2'])
      await fetch(`${base}/api/polls/${id}/votes?emp_no=${emp}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ question_id: 'place', option_ids: [b?.id] }),
      });
    expect((await fetch(`${base}/api/polls/${id}/close`, { method: 'POST', headers: admin() })).status).toBe(
      200,
    );
    await fetch(`${base}/api/polls/${id}/headcount?emp_no=1`, { method: 'POST' });

    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    await page.goto(`${base}/history`);
    const visit = page.locator('table[aria-label="Lunch history"] tbody tr').first();
    await visit.waitFor({ timeout: 10_000 });
    expect(await visit.textContent()).toContain(b?.name);
    expect(await page.locator(`tr[data-place="${b?.id}"]`).textContent()).toMatch(/1.*0$/); // 1 win, 0 days ago

    await page.goto(`${base}/board/${id}`);
    await page.locator('.winner-reason').waitFor({ timeout: 10_000 });
    expect(await page.locator('.winner-reason').textContent()).toContain(`Winner: ${b?.name}`);
    await expect
      .poll(() => page.locator('.winner-headcount').textContent(), { timeout: 10_000 })
      .toBe('1 in');

    // The vote page says the same, and takes "I'm in".
    await page.goto(`${base}/p/${id}?emp_no=5`);
    await page.locator('.winner-reason').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'I’m in' }).click();
    await expect.poll(() => page.locator('.winner-headcount').textContent()).toBe('2 in');
    expect(await page.getByRole('button', { name: 'I’m out after all' }).getAttribute('aria-pressed')).toBe(
      'true',
    );
    await page.close();
  }, 60_000);

  it('puts the decision in the headline: one place for a tie it broke, nobody when the quorum was missed', async () => {
    const [a, b] = await catalog();
    const closedPoll = async (title: string, votes: [string, string | undefined][], quorum?: number) => {
      const created = (await (
        await fetch(`${base}/api/polls`, {
          method: 'POST',
          headers: admin(),
          body: JSON.stringify({
            template: 'lunch',
            title,
            place_ids: [a?.id, b?.id],
            ...(quorum ? { settings: { quorum } } : {}),
          }),
        })
      ).json()) as PollResponse;
      const id = created.poll.id;
      for (const [emp, place] of votes)
        await fetch(`${base}/api/polls/${id}/votes?emp_no=${emp}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ question_id: 'place', option_ids: [place] }),
        });
      const closed = (await (
        await fetch(`${base}/api/polls/${id}/close`, { method: 'POST', headers: admin() })
      ).json()) as PollResponse;
      return { id, decision: closed.snapshot.decision };
    };
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });

    const tie = await closedPoll('Tie lunch', [
      ['31', a?.id],
      ['32', b?.id],
    ]);
    expect(tie.decision?.outcome).toBe('decided');
    const chosen = [a, b].find((p) => p?.id === tie.decision?.option_id);
    await page.goto(`${base}/board/${tie.id}`);
    await page.locator('.winner-reason').waitFor({ timeout: 10_000 });
    expect(await page.locator('.winner-kicker').textContent()).toBe('Winner');
    expect(await page.locator('.winner-name').allTextContents()).toEqual([chosen?.name]);
    await page.goto(`${base}/p/${tie.id}?emp_no=33`);
    await page.locator('.winner-reason').waitFor({ timeout: 10_000 });
    expect(await page.locator('.choice-winner').count()).toBe(1);
    expect(await page.locator('.choice-winner').getAttribute('data-option')).toBe(chosen?.id);

    const short = await closedPoll('Quorum lunch', [['41', a?.id]], 5);
    expect(short.decision?.outcome).toBe('no_decision');
    await page.goto(`${base}/board/${short.id}`);
    await page.locator('.winner-reason').waitFor({ timeout: 10_000 });
    expect(await page.locator('.winner-name').allTextContents()).toEqual(['No decision']);
    expect(await page.locator('.winner-count').count()).toBe(0);
    await page.goto(`${base}/p/${short.id}?emp_no=42`);
    await page.locator('.winner-reason').waitFor({ timeout: 10_000 });
    expect(await page.locator('.choice-winner').count()).toBe(0);
    await page.close();
  }, 60_000);
});
