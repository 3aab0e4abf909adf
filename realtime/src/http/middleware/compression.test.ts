// Every text response of the HTTP edge leaves compressed (brotli or gzip, as the client asks): pages, scripts,
// stylesheets, API answers. Fonts already compressed and live streams are left alone, and no source map is served.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import type { Core } from '@livevote/core';
import { type EmbeddedCore, embeddedCore } from '@livevote/core/testing';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpApp } from '../app.ts';

const ADMIN = 'compression-test-admin-token';
const SCRIPT = `export const board = ${JSON.stringify('가나다라 board '.repeat(2_000))};\n`;

interface Raw {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** One request with an explicit Accept-Encoding; the body as it came over the wire (not decoded). */
function get(url: string, encoding: string, firstChunkOnly = false): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers: { 'accept-encoding': encoding } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => {
        chunks.push(c);
        if (firstChunkOnly) {
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          req.destroy();
        }
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', (e) => (firstChunkOnly ? undefined : reject(e)));
    req.end();
  });
}

describe('compressed responses', () => {
  let embedded: EmbeddedCore;
  let core: Core;
  let dist: string;
  let server: Server;
  let base: string;

  beforeAll(async () => {
    embedded = await embeddedCore();
    core = embedded.core;
    dist = await mkdtemp(join(tmpdir(), 'lv-compress-'));
    await mkdir(join(dist, 'assets'));
    await writeFile(
      join(dist, 'index.html'),
      `<!doctype html><title>livevote</title>${'<!-- padding -->'.repeat(200)}<script type="module" src="/assets/board.js"></script>`,
    );
    await writeFile(join(dist, 'assets', 'board.js'), SCRIPT);
    await writeFile(join(dist, 'assets', 'board.js.map'), '{"version":3,"sources":["secret.ts"]}');
    await writeFile(join(dist, 'assets', 'font.woff2'), Buffer.alloc(4_096, 7));
    // A stream like the SSE route's: it must reach the client at once, uncompressed.
    const stream = express.Router();
    stream.get('/stream', (_req, res) => {
      res.status(200).set({ 'Content-Type': 'text/event-stream; charset=utf-8' });
      res.flushHeaders();
      res.write(`data: ${'x'.repeat(2_000)}\n\n`);
    });
    const app = createHttpApp({
      core,
      auth: { mode: 'open', adminToken: ADMIN },
      log: { info() {}, warn() {}, error() {} },
      webDist: dist,
      routers: [stream],
    });
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server?.closeAllConnections();
    server?.close();
    await embedded?.close();
    await rm(dist, { recursive: true, force: true });
  });

  it('sends the script brotli-compressed to a browser, gzip to a gzip-only client, and says Vary', async () => {
    const br = await get(`${base}/assets/board.js`, 'gzip, deflate, br');
    expect(br.headers['content-encoding']).toBe('br');
    expect(br.headers.vary).toContain('Accept-Encoding');
    expect(br.body.length).toBeLessThan(SCRIPT.length / 10);
    expect(brotliDecompressSync(br.body).toString()).toBe(SCRIPT);

    const gz = await get(`${base}/assets/board.js`, 'gzip');
    expect(gz.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(gz.body).toString()).toBe(SCRIPT);

    const plain = await get(`${base}/assets/board.js`, 'identity');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body.toString()).toBe(SCRIPT);
  });

  it('compresses the pages and the API answers too', async () => {
    const page = await get(`${base}/board/abc`, 'gzip');
    expect(page.headers['content-encoding']).toBe('gzip');
    expect(gunzipSync(page.body).toString()).toContain('/assets/board.js');
    for (let i = 0; i < 12; i++) {
      const res = await fetch(`${base}/api/polls`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${ADMIN}` },
        body: JSON.stringify({
          template: 'choice',
          title: `Poll number ${i} with a long title`,
          options: ['A', 'B'],
        }),
      });
      expect(res.status).toBe(201);
    }
    const api = await get(`${base}/api/polls`, 'gzip');
    expect(api.status).toBe(200);
    expect(api.headers['content-encoding']).toBe('gzip');
    expect(JSON.parse(gunzipSync(api.body).toString()).polls).toHaveLength(12);
  });

  it('leaves fonts (already compressed) and live streams alone', async () => {
    const font = await get(`${base}/assets/font.woff2`, 'gzip, br');
    expect(font.headers['content-encoding']).toBeUndefined();
    const stream = await get(`${base}/stream`, 'gzip, br', true);
    expect(stream.headers['content-encoding']).toBeUndefined();
    expect(stream.body.toString()).toMatch(/^data: x{100}/);
  });

  it('serves no source map, even one left in the folder', async () => {
    const map = await get(`${base}/assets/board.js.map`, 'identity');
    expect(map.status).toBe(404);
    expect(map.body.toString()).not.toContain('secret.ts');
  });
});
