import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { layeredOnce, MemoryOnce, type OnceStore, slackReplayGuard } from './replay-guard.ts';

const SECRET = 'replay-guard-test-secret';
const sign = (body: string, ts: number, secret = SECRET) => ({
  'x-slack-request-timestamp': String(ts),
  'x-slack-signature': `v0=${createHmac('sha256', secret).update(`v0:${ts}:${body}`).digest('hex')}`,
});

describe('slackReplayGuard', () => {
  const seen: string[] = [];
  const claims: { key: string; ttlMs: number }[] = [];
  let server: Server;
  let url: string;
  beforeAll(async () => {
    const memory = new MemoryOnce();
    const once: OnceStore = {
      claim: (key, ttlMs) => {
        claims.push({ key, ttlMs });
        return memory.claim(key, ttlMs);
      },
    };
    const app = express();
    app.post('/slack/events', ...slackReplayGuard({ signingSecret: SECRET, once }), (req, res) => {
      // What Bolt reads: the raw body, handed over because the guard consumed the stream.
      seen.push(String((req as { rawBody?: Buffer }).rawBody));
      res.json({ ok: true });
    });
    server = createServer(app);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/slack/events`;
  });
  afterAll(() => {
    server?.close();
  });

  const post = (body: string, headers: Record<string, string>) =>
    fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body,
    });

  it('lets a signed request through once; its replays get an empty 200 and reach nothing', async () => {
    const body = 'command=%2Fvote&text=%22Q%22+%22A%22+%22B%22&user_id=U1';
    const headers = sign(body, Math.floor(Date.now() / 1000));
    const answers = await Promise.all([1, 2, 3].map(() => post(body, headers)));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200]);
    expect((await Promise.all(answers.map((a) => a.text()))).sort()).toEqual(['', '', '{"ok":true}']);
    expect(seen.filter((b) => b === body)).toHaveLength(1);
  });

  it("lets Slack's retry through: it is signed anew, with a later timestamp", async () => {
    const body = 'payload=%7B%22type%22%3A%22block_actions%22%7D';
    const now = Math.floor(Date.now() / 1000);
    await post(body, sign(body, now));
    await post(body, { ...sign(body, now + 1), 'x-slack-retry-num': '1' });
    expect(seen.filter((b) => b === body)).toHaveLength(2);
  });

  it("lets Slack's retry through within the same second (same signature), by its retry number; not its replay", async () => {
    const body = 'payload=%7B%22type%22%3A%22block_actions%22%2C%22n%22%3A2%7D';
    const headers = sign(body, Math.floor(Date.now() / 1000));
    await post(body, headers); // answered 500 at once, say: Slack sends it again before the second is over
    const retry = await post(body, { ...headers, 'x-slack-retry-num': '1' });
    expect(await retry.text()).toBe('{"ok":true}');
    const replay = await post(body, { ...headers, 'x-slack-retry-num': '1' });
    expect(await replay.text()).toBe('');
    // A header a replayer makes up counts as no retry at all.
    expect(await (await post(body, { ...headers, 'x-slack-retry-num': '999' })).text()).toBe('');
    expect(seen.filter((b) => b === body)).toHaveLength(2);
  });

  it('remembers nothing unsigned or forged (they go on, to be refused by Bolt), so they cannot block the real one', async () => {
    const body = 'command=%2Flunch&user_id=U2';
    const ts = Math.floor(Date.now() / 1000);
    const genuine = sign(body, ts);
    const forged = { ...genuine, 'x-slack-signature': sign(body, ts, 'not-the-secret')['x-slack-signature'] };
    const before = claims.length;
    await post(body, forged);
    await post(body, {});
    expect(claims.length).toBe(before);
    await post(body, genuine);
    expect(seen.filter((b) => b === body)).toHaveLength(3); // forged, unsigned (both for Bolt to refuse), genuine
  });

  it('remembers a signature until its timestamp is past the 5-minute window, plus a minute', async () => {
    const body = 'command=%2Fvote&user_id=U3';
    const ts = Math.floor(Date.now() / 1000) - 60; // signed a minute ago
    await post(body, sign(body, ts));
    const ttl = claims.at(-1)?.ttlMs ?? 0;
    expect(ttl).toBeGreaterThan(4 * 60_000 + 50_000);
    expect(ttl).toBeLessThanOrEqual(5 * 60_000 + 1_000);
  });
});

describe('MemoryOnce', () => {
  it('refuses a key until its time is up, and keeps at most `max` keys', async () => {
    let now = 0;
    const once = new MemoryOnce(3, () => now);
    expect(await once.claim('a', 1_000)).toBe(true);
    expect(await once.claim('a', 1_000)).toBe(false);
    now = 999;
    expect(await once.claim('a', 1_000)).toBe(false);
    now = 1_000;
    expect(await once.claim('a', 1_000)).toBe(true);
    for (const k of ['b', 'c', 'd', 'e']) expect(await once.claim(k, 60_000)).toBe(true);
    expect(once.size()).toBe(3);
    now = 100_000;
    await once.claim('f', 1);
    expect(once.size()).toBe(1); // the expired ones are gone
  });
});

describe('layeredOnce', () => {
  const failing = (err: Error): OnceStore => ({ claim: () => Promise.reject(err) });

  it('refuses what another instance claimed, and what this one saw without asking the shared store', async () => {
    const shared = new MemoryOnce();
    const asked: string[] = [];
    const spy: OnceStore = {
      claim: (k, t) => {
        asked.push(k);
        return shared.claim(k, t);
      },
    };
    const a = layeredOnce(new MemoryOnce(), spy, () => {});
    const b = layeredOnce(new MemoryOnce(), spy, () => {});
    expect(await a.claim('sig', 60_000)).toBe(true);
    expect(await b.claim('sig', 60_000)).toBe(false);
    expect(await a.claim('sig', 60_000)).toBe(false);
    expect(asked).toEqual(['sig', 'sig']);
  });

  it('goes on by its own memory when the shared store fails or is slow', async () => {
    const errors: unknown[] = [];
    const down = layeredOnce(new MemoryOnce(), failing(new Error('ECONNREFUSED')), (e) => errors.push(e));
    expect(await down.claim('x', 60_000)).toBe(true);
    expect(await down.claim('x', 60_000)).toBe(false);
    const slow = layeredOnce(new MemoryOnce(), { claim: () => new Promise(() => {}) }, (e) => errors.push(e));
    const started = Date.now();
    expect(await slow.claim('y', 60_000)).toBe(true);
    expect(Date.now() - started).toBeLessThan(2_500);
    expect(errors).toHaveLength(2);
  });
});
