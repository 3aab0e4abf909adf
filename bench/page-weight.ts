// What each page costs to load: the JavaScript, CSS and fonts a real Chromium downloads for the board, the vote page
// and the admin, raw (decoded) and as sent (compressed by the server), plus whether a source map is reachable.
// Runs the embedded server with the demo poll; writes the "Page weight" section of bench/RESULTS.md.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from '@livevote/core/testing';
import { parseConfig, start } from '@livevote/server';
import { pino } from 'pino';
import { chromium } from 'playwright-core';
import { machine, writeSection } from './lib/results.ts';

const PAGES = [
  { name: 'board', path: '/board/lunch-demo', viewport: { width: 1920, height: 1080 } },
  { name: 'vote page', path: '/p/lunch-demo?emp_no=1', viewport: { width: 390, height: 844 } },
  { name: 'admin', path: '/admin', viewport: { width: 1280, height: 900 } },
] as const;

interface Weight {
  raw: number;
  sent: number;
  files: number;
}

const kb = (n: number) => `${(n / 1024).toFixed(1)} KB`;

const dataDir = await mkdtemp(join(tmpdir(), 'lv-weight-'));
const port = await freePort();
const running = await start(
  parseConfig({ PORT: String(port), HOST: '127.0.0.1', DATA_DIR: dataDir, LOG_LEVEL: 'silent' }),
  pino({ level: 'silent' }),
);
const base = `http://127.0.0.1:${port}`;
const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run'],
});
const rows: string[] = [];
const summary: Record<string, { js: Weight; css: Weight; font: Weight }> = {};
try {
  for (const p of PAGES) {
    const page = await browser.newPage({ viewport: p.viewport, locale: 'ko-KR' });
    const seen: Promise<{ kind: 'js' | 'css' | 'font' | 'other'; raw: number; sent: number }>[] = [];
    page.on('requestfinished', (req) => {
      seen.push(
        (async () => {
          const res = await req.response();
          const url = req.url();
          const kind = /\.js$/.test(url)
            ? 'js'
            : /\.css$/.test(url)
              ? 'css'
              : /\.woff2$/.test(url)
                ? 'font'
                : 'other';
          const raw = (await res?.body())?.length ?? 0;
          const sent = (await req.sizes()).responseBodySize;
          return { kind, raw, sent };
        })(),
      );
    });
    await page.goto(`${base}${p.path}`, { waitUntil: 'networkidle' });
    await page.waitForTimeout(2_000); // lazy chunks and font slices asked for after the first render
    page.removeAllListeners('requestfinished');
    const all = await Promise.all(seen);
    const sum = (kind: string): Weight =>
      all
        .filter((r) => r.kind === kind)
        .reduce((w, r) => ({ raw: w.raw + r.raw, sent: w.sent + r.sent, files: w.files + 1 }), {
          raw: 0,
          sent: 0,
          files: 0,
        });
    const w = { js: sum('js'), css: sum('css'), font: sum('font') };
    summary[p.name] = w;
    rows.push(
      `| ${p.name} | ${w.js.files} | ${kb(w.js.raw)} | ${kb(w.js.sent)} | ${kb(w.css.raw)} / ${kb(w.css.sent)} | ${w.font.files} files, ${kb(w.font.sent)} |`,
    );
    await page.close();
  }
  const html = await fetch(`${base}/board/lunch-demo`);
  const scripts = [...(await html.text()).matchAll(/src="(\/assets\/[^"]+\.js)"/g)].map((m) => m[1]);
  const maps = await Promise.all(scripts.map((s) => fetch(`${base}${s}.map`).then((r) => r.status)));
  const body = `Machine: ${machine()}, Chromium ${browser.version()}. Command: \`npm run bench:weight\` (the embedded server and its demo poll;
each page opened once in Chromium, counting every response it downloaded: _raw_ is the decoded size, _sent_ what
came over the wire with the server's compression: gzip here, as Chromium asks for brotli only over HTTPS).

| page | JS files | JS raw | JS sent | CSS raw / sent | Korean font (sent) |
| ---- | -------- | ------ | ------- | -------------- | ------------------ |
${rows.join('\n')}

Before this change (the same machine, the build of the previous commit): one 298,557-byte script on every page
(92,504 bytes gzip -9, 80,102 brotli, but the server sent it uncompressed: 291.6 KB over the wire), the admin's code
included, a 1,436,198-byte source map served publicly, and no Korean font.

- Budget ≤ 120 KB compressed JavaScript for the board and the vote page: board ${kb(summary.board?.js.sent ?? 0)},
  vote page ${kb(summary['vote page']?.js.sent ?? 0)}.
- Source maps: ${maps.every((s) => s === 404) ? `none reachable (\`<script>.map\` answers 404 for every script the page names: ${maps.length})` : `REACHABLE: ${maps.join(', ')}`}.
- The font is Noto Sans KR (variable) from \`@fontsource-variable/noto-sans-kr\`, cut by Unicode range into slices;
  a page downloads only the slices its text uses.`;
  writeSection(`Page weight — ${new Date().toISOString().slice(0, 10)}`, body);
  console.log(body);
} finally {
  await browser.close();
  await running.stop();
  await rm(dataDir, { recursive: true, force: true });
}
