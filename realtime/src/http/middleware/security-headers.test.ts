// Every response of the HTTP edge carries the security headers: pages, assets, API answers, errors, the chat
// endpoints mounted beside them, and a 404 anywhere.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Core } from '@livevote/core';
import { type EmbeddedCore, embeddedCore } from '@livevote/core/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../app.ts';

const ADMIN = 'headers-test-admin-token-0123';

describe('security headers', () => {
  let embedded: EmbeddedCore;
  let core: Core;
  let dist: string;
  const servers: Server[] = [];

  beforeAll(async () => {
    embedded = await embeddedCore();
    core = embedded.core;
    dist = await mkdtemp(join(tmpdir(), 'lv-headers-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(
      join(dist, 'index.html'),
      '<!doctype html><script type="module" src="/assets/a.js"></script>',
    );
    await writeFile(join(dist, 'assets', 'a.js'), 'export {};');
  });
  afterAll(async () => {
    for (const s of servers) s.close();
    await embedded?.close();
    await rm(dist, { recursive: true, force: true });
  });

  async function serve(frameAncestors?: string[]): Promise<string> {
    // A chat endpoint is its own Express app (the Teams SDK's), mounted beside the API.
    const chat = express();
    chat.disable('x-powered-by');
    chat.post('/api/messages', (_req, res) => void res.json({}));
    const app = createHttpApp({
      core,
      auth: { mode: 'open', adminToken: ADMIN },
      log: { info() {}, warn() {}, error() {} },
      webDist: dist,
      routers: [chat as unknown as express.Router],
      ...(frameAncestors ? { frameAncestors } : {}),
    });
    const server = createServer(app);
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const requests: [string, string, RequestInit?][] = [
    ['a page', '/board/abc'],
    ['an asset', '/assets/a.js'],
    ['an API answer', '/api/polls'],
    [
      'an API error',
      '/api/polls',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' },
    ],
    ['an unknown API route', '/api/nope'],
    ['an unknown page', '/nope/nothing'],
    ['health', '/healthz'],
    [
      'the chat endpoint',
      '/api/messages',
      { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' },
    ],
  ];

  it.each(requests)('on %s', async (_what, path, init) => {
    const res = await fetch(`${await serve()}${path}`, init);
    const csp = res.headers.get('content-security-policy') ?? '';
    const directives = Object.fromEntries(
      csp.split(';').map((d) => {
        const [name = '', ...values] = d.trim().split(/\s+/);
        return [name, values.join(' ')];
      }),
    );
    expect(directives['script-src']).toBe("'self'");
    expect(directives['default-src']).toBe("'self'");
    expect(csp).not.toContain('unsafe-inline');
    expect(csp).not.toContain('unsafe-eval');
    expect(directives['frame-ancestors']).toBe("'none'");
    expect(res.headers.get('x-frame-options')).toBe('DENY');
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    expect(res.headers.get('referrer-policy')).toBe('no-referrer');
    expect(res.headers.get('x-powered-by')).toBeNull();
  });

  it('lets the configured frame ancestors frame the pages, and drops X-Frame-Options for them', async () => {
    const base = await serve(['https://teams.microsoft.com', 'https://*.teams.microsoft.com']);
    const res = await fetch(`${base}/board/abc`);
    expect(res.headers.get('content-security-policy')).toContain(
      'frame-ancestors https://teams.microsoft.com https://*.teams.microsoft.com',
    );
    expect(res.headers.get('x-frame-options')).toBeNull();
  });
});
