// GET /api/polls/:id/events: the same messages as the WebSocket, as Server-Sent Events. `id:` is the poll
// version, so a reconnecting EventSource sends Last-Event-ID and only gets a snapshot when it missed something.
import { randomUUID } from 'node:crypto';
import type { Request, Response } from 'express';
import type { Hub, Subscriber } from '../fanout/hub.ts';
import type { PreparedFrame } from '../fanout/prepared-frame.ts';

const HIGH_WATER = 256 * 1024;
const KEEPALIVE_MS = 15_000;

export function sseHandler(hub: Hub) {
  return async (req: Request, res: Response, pollId: string): Promise<void> => {
    const lastId =
      req.get('last-event-id') ??
      (typeof req.query.last_event_id === 'string' ? req.query.last_event_id : undefined);
    const known = lastId !== undefined && /^\d{1,15}$/.test(lastId) ? Number(lastId) : undefined;
    const sub: Subscriber = {
      id: randomUUID(),
      deliver(frames: PreparedFrame[]) {
        if (res.writableLength > HIGH_WATER) return false;
        for (const f of frames) res.write(f.sse);
        return true;
      },
      drained: () => res.writableLength < HIGH_WATER / 8,
      // Shutting down: the stream ends, and the EventSource reconnects (after `retry`) to an instance still up,
      // instead of holding the drain until the server's 10 s limit.
      end: () => res.end(),
    };
    // The route awaited the store before calling us: a client gone meanwhile has had its 'close' already, and a
    // join now would never be undone.
    if (res.closed || res.writableEnded) return;
    hub.join(sub, pollId);
    res.on('close', () => {
      clearInterval(keepalive);
      hub.leaveAll(sub);
    });
    const keepalive = setInterval(() => res.write(': keep-alive\n\n'), KEEPALIVE_MS);
    keepalive.unref();
    res.status(200).set({
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache, no-transform',
      'X-Accel-Buffering': 'no', // tell nginx-style proxies not to buffer the stream
      Connection: 'keep-alive',
    });
    res.flushHeaders();
    res.write('retry: 3000\n\n');
    try {
      if (!(await hub.sendCurrent(sub, pollId, known))) res.end(); // deleted meanwhile; the route checked it exists
    } catch (err) {
      res.end(); // the store failed us: the client reconnects after `retry`; the error handler reports it
      throw err;
    }
  };
}
