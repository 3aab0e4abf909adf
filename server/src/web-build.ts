// The web app is served from web/dist. `npm start` builds it when it is missing or older than its sources
// (about a second with Vite), so a fresh clone and an edited checkout both serve the current pages.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_ROOT = fileURLToPath(new URL('../../web/', import.meta.url));
export const WEB_DIST = fileURLToPath(new URL('../../web/dist/', import.meta.url));

function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (!/\.test\.tsx?$/.test(entry.name)) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
}

/** Whether web/dist is missing or older than web/src, web/index.html or the shared protocol it bundles. */
export function webBuildStale(): boolean {
  const index = join(WEB_DIST, 'index.html');
  if (!existsSync(index)) return true;
  if (!existsSync(join(WEB_ROOT, 'src'))) return false; // a production image ships dist without sources
  const built = statSync(index).mtimeMs;
  const protocol = fileURLToPath(new URL('../../core/src/protocol/', import.meta.url));
  const sources = Math.max(
    newestSource(join(WEB_ROOT, 'src')),
    statSync(join(WEB_ROOT, 'index.html')).mtimeMs,
    newestSource(protocol),
  );
  return sources > built;
}

export async function ensureWebBuild(log: {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
}): Promise<string | undefined> {
  if (!webBuildStale()) return WEB_DIST;
  try {
    // Vite is a dev dependency: present after `npm install`, absent in a production image (which ships web/dist).
    const { build } = await import('vite');
    log.info({ root: WEB_ROOT }, 'building the web app');
    // Always the production bundle, even when started from a test runner: Vite and the React plugin read
    // NODE_ENV (test → React's development build and JSX runtime), so it is set for the build only. This is
    // build tooling, not configuration, which is why it touches process.env outside config.ts.
    const before = process.env.NODE_ENV;
    process.env.NODE_ENV = 'production';
    try {
      await build({ root: WEB_ROOT, logLevel: 'warn', mode: 'production' });
    } finally {
      if (before === undefined) delete process.env.NODE_ENV;
      else process.env.NODE_ENV = before;
    }
    return WEB_DIST;
  } catch (err) {
    log.warn({ err: String(err) }, 'web app not built: pages are unavailable, the API works');
    return existsSync(join(WEB_DIST, 'index.html')) ? WEB_DIST : undefined;
  }
}
