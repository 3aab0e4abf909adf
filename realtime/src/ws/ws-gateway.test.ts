// The gateway's join against a slow store: a client that leaves while its poll is being looked up is never joined
// to the hub afterwards (its close handler has already run, so nothing would ever take it out again). A client that
// leaves leaves nothing behind; the heartbeat drops a peer that stopped answering pings and keeps one that answers.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { type Core, createCore, createPgliteStore, createPoll, MemoryBus } from '@livevote/core';
import { TEST_ANONYMITY_KEY } from '@livevote/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { type SlowStore, slowPollReads } from '../../test/slow-store.ts';
import { Hub } from '../fanout/hub.ts';
import { attachWebSocket, type Gateway } from './ws-gateway.ts';

describe('WebSocket gateway with a slow store', () => {
  let db: PGlite;
  let slow: SlowStore;
  let core: Core;
  let hub: Hub;
  let server: Server;
  let gateway: Gateway;
  let url: string;
  beforeAll(async () => {
    db = await PGlite.create();
    slow = slowPollReads(await createPgliteStore(db, { anonymityKey: TEST_ANONYMITY_KEY }));
    core = createCore(slow.store, new MemoryBus());
    hub = new Hub({ polls: slow.store, bus: core.bus, events: core.events });
    hub.start();
    server = createServer();
    const log = { warn() {} };
    gateway = attachWebSocket(server, {
      hub,
      polls: slow.store,
      auth: { mode: 'open', adminToken: 'x' },
      log,
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `ws://127.0.0.1:${(server.address() as AddressInfo).port}/ws/votes`;
  });
  afterAll(async () => {
    await gateway.close();
    hub.stop();
    core.events.stop();
    await new Promise((r) => server.close(r));
    await db.close();
  });

  const open = async (emp: string, query = '', to = url, options: WebSocket.ClientOptions = {}) => {
    const ws = new WebSocket(`${to}?emp_no=${emp}${query}`, options);
    const frames: { type: string }[] = [];
    ws.on('message', (d) => frames.push(JSON.parse(String(d))));
    await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return { ws, frames };
  };

  const newPoll = async () => {
    const created = await createPoll(
      core,
      { template: 'choice', title: 'q', options: ['a', 'b'] },
      { kind: 'admin' },
    );
    if (!created.ok) throw new Error(created.message);
    return created.value.poll.id;
  };

  it('does not join a client that closed while today’s poll was being looked up', async () => {
    const created = await createPoll(
      core,
      {
        template: 'lunch',
        places: [
          { name: 'A', menus: [] },
          { name: 'B', menus: [] },
        ],
      },
      { kind: 'admin' },
    );
    if (!created.ok) throw new Error(created.message);
    const pollId = created.value.poll.id;

    slow.hold();
    const leaving = await open('1');
    const staying = await open('2');
    await expect.poll(() => slow.held()).toBe(2);
    leaving.ws.close();
    await expect.poll(() => gateway.connections()).toBe(1); // its close handler has run
    slow.release();

    // The one that stayed is joined and told so; by then the leaver's lookup has answered too.
    await expect.poll(() => staying.frames.some((f) => f.type === 'connection_ack')).toBe(true);
    expect(leaving.frames).toEqual([]);
    expect(hub.subscribers()).toBe(1);
    expect(hub.onlineCount(pollId)).toBe(1);

    staying.ws.close();
    await expect.poll(() => hub.subscribers()).toBe(0);
    expect(hub.onlineCount(pollId)).toBe(0);
  });

  it('forgets a client that closes: no subscription, online count or voting mark stays behind', async () => {
    const [first, second] = [await newPoll(), await newPoll()];
    const client = await open('3', `&poll_id=${first}`);
    await expect.poll(() => client.frames.some((f) => f.type === 'vote_update')).toBe(true);
    client.ws.send(JSON.stringify({ type: 'subscribe', data: { poll_id: second } }));
    await expect.poll(() => hub.subscribers()).toBe(2);
    for (const poll_id of [first, second])
      client.ws.send(JSON.stringify({ type: 'voting', data: { poll_id } }));
    await expect.poll(() => hub.presence.totals(second).voting).toBe(1);
    expect(hub.presence.totals(first)).toEqual({ online: 1, voting: 1 });
    expect(gateway.connections()).toBe(1);

    client.ws.close();
    await expect.poll(() => gateway.connections()).toBe(0);
    expect(hub.subscribers()).toBe(0);
    // At once, not when the voting mark would have expired.
    for (const poll of [first, second]) expect(hub.presence.totals(poll)).toEqual({ online: 0, voting: 0 });
  });

  it('drops a peer that stops answering pings and keeps one that answers', async () => {
    // A gateway of its own, with a heartbeat every 100 ms.
    const beating = createServer();
    const beat = attachWebSocket(beating, {
      hub,
      polls: slow.store,
      auth: { mode: 'open', adminToken: 'x' },
      log: { warn() {} },
      heartbeatMs: 100,
    });
    await new Promise<void>((r) => beating.listen(0, '127.0.0.1', r));
    const at = `ws://127.0.0.1:${(beating.address() as AddressInfo).port}/ws/votes`;
    try {
      const poll = await newPoll();
      const answering = await open('4', `&poll_id=${poll}`, at);
      const silent = await open('5', `&poll_id=${poll}`, at, { autoPong: false });
      await expect.poll(() => hub.onlineCount(poll)).toBe(2);
      const closed = new Promise<number>((r) => silent.ws.once('close', r));
      expect(await closed).toBe(1006); // terminated: no close frame
      await expect.poll(() => hub.onlineCount(poll)).toBe(1);
      // It was pinged as often as the silent one, which is gone by now: answering keeps it.
      expect(answering.ws.readyState).toBe(WebSocket.OPEN);
      expect(beat.connections()).toBe(1);
      answering.ws.close();
      await expect.poll(() => beat.connections()).toBe(0);
    } finally {
      await beat.close();
      await new Promise((r) => beating.close(r));
    }
  });
});
