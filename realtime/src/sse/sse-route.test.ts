// The SSE route's join against a slow store: a client that leaves while the route looks the poll up is never joined
// to the hub afterwards (its 'close' has already fired, so nothing would ever take it out again).
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { type Core, createCore, createPgliteStore, MemoryBus } from '@livevote/core';
import { choicePoll, TEST_ANONYMITY_KEY } from '@livevote/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlowStore, slowPollReads } from '../../test/slow-store.ts';
import { Hub } from '../fanout/hub.ts';
import { createHttpApp } from '../http/app.ts';

describe('SSE with a slow store', () => {
  let db: PGlite;
  let slow: SlowStore;
  let core: Core;
  let hub: Hub;
  let server: Server;
  let base: string;
  let closedResponses = 0;
  beforeAll(async () => {
    db = await PGlite.create();
    slow = slowPollReads(await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY }));
    core = createCore(slow.store, new MemoryBus());
    hub = new Hub({ polls: slow.store, bus: core.bus, events: core.events });
    hub.start();
    const log = { info() {}, warn() {}, error() {} };
    server = createServer(createHttpApp({ core, hub, auth: { mode: 'open', adminToken: 'x' }, log }));
    // Tells the test when the server has seen a client go (the route's own close handling runs on the same event).
    server.on('request', (_req, res) => res.on('close', () => closedResponses++));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    hub.stop();
    core.events.stop();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    await db.close();
  });

  it('does not join a client that went away while the poll was being looked up', async () => {
    const pollId = await choicePoll(core);
    core.snapshots.forget(pollId); // so the route has to ask the (slow) store

    slow.hold();
    const leaving = new AbortController();
    const staying = new AbortController();
    const leaver = fetch(`${base}/api/polls/${pollId}/events`, { signal: leaving.signal }).catch(() => null);
    const stayer = fetch(`${base}/api/polls/${pollId}/events`, { signal: staying.signal });
    await expect.poll(() => slow.held()).toBe(2);
    leaving.abort();
    await expect.poll(() => closedResponses).toBe(1);
    slow.release();

    // The one that stayed is joined and streamed to; by then the leaver's lookup has answered too.
    const res = await stayer;
    expect(res.status).toBe(200);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('vote_update')) text += new TextDecoder().decode((await reader.read()).value);
    expect(await leaver).toBeNull();
    expect(hub.subscribers()).toBe(1);
    expect(hub.onlineCount(pollId)).toBe(1);

    staying.abort();
    await expect.poll(() => hub.subscribers()).toBe(0);
    expect(hub.onlineCount(pollId)).toBe(0);
  });

  it('ends its streams when the hub stops (a draining server), so clients reconnect elsewhere at once', async () => {
    const pollId = await choicePoll(core);
    const res = await fetch(`${base}/api/polls/${pollId}/events`);
    const reader = (res.body as ReadableStream<Uint8Array>).getReader();
    let text = '';
    while (!text.includes('vote_update')) text += new TextDecoder().decode((await reader.read()).value);
    hub.stop();
    for (;;) if ((await reader.read()).done) break; // the server ended the stream
    expect(text).toContain('retry: 3000');
  });
});
