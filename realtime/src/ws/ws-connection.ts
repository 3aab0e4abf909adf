// One WebSocket client as a hub Subscriber. Broadcast frames are written pre-framed (one shared buffer for every
// socket) when the socket's own sender is idle; otherwise through ws.send, which keeps ws's ordering.
import type { Duplex } from 'node:stream';
import type { Voter } from '@livevote/core';
import WebSocket from 'ws';
import type { Subscriber } from '../fanout/hub.ts';
import type { PreparedFrame } from '../fanout/prepared-frame.ts';

/** Above this many unsent bytes a client is skipped; below LOW_WATER it is caught up with the newest snapshot. */
export const HIGH_WATER = 256 * 1024;
const LOW_WATER = 32 * 1024;

/**
 * One broadcast's frames, back to back in one buffer: a socket then gets one write (one syscall) per broadcast
 * instead of one per frame. The hub hands every subscriber the same array, so this is built once per broadcast.
 */
const joined = new WeakMap<PreparedFrame[], Buffer>();
function joinedFrames(frames: PreparedFrame[]): Buffer {
  let b = joined.get(frames);
  if (!b) {
    b =
      frames.length === 1
        ? (frames[0] as PreparedFrame).wsFrame
        : Buffer.concat(frames.map((f) => f.wsFrame));
    joined.set(frames, b);
  }
  return b;
}

interface WsInternals {
  _socket?: Duplex;
  _sender?: { _state?: number; _queue?: unknown[] };
}

export class WsConnection implements Subscriber {
  alive = true;
  readonly polls = new Set<string>();
  private strikes: number[] = [];
  private tokens = 40;
  private lastRefill = performance.now();

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    readonly voter: Voter | null,
  ) {}

  deliver(frames: PreparedFrame[]): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return true; // closing: nothing to catch up
    if (this.ws.bufferedAmount > HIGH_WATER) return false;
    const socket = this.idleSocket();
    if (socket) socket.write(joinedFrames(frames));
    else for (const f of frames) this.ws.send(f.payload, { binary: false });
    return true;
  }

  drained(): boolean {
    return this.ws.readyState !== WebSocket.OPEN || this.ws.bufferedAmount < LOW_WATER;
  }

  write(f: PreparedFrame): void {
    const socket = this.idleSocket();
    if (socket) socket.write(f.wsFrame);
    else this.ws.send(f.payload, { binary: false });
  }

  /**
   * ws writes a frame straight to the socket when its sender is idle (state 0, empty queue; no compression is
   * configured), so writing our pre-built frames there is exactly what ws.send would do, minus the per-socket work.
   */
  private idleSocket(): Duplex | undefined {
    const internals = this.ws as unknown as WsInternals;
    const sender = internals._sender;
    return internals._socket && sender?._state === 0 && sender._queue?.length === 0
      ? internals._socket
      : undefined;
  }

  /** Token bucket: 20 frames/s sustained, bursts of 40. */
  allow(): boolean {
    const now = performance.now();
    this.tokens = Math.min(40, this.tokens + ((now - this.lastRefill) / 1000) * 20);
    this.lastRefill = now;
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** Records a bad frame; true when the client has misbehaved often enough to be closed (5 within a minute). */
  strike(): boolean {
    const now = performance.now();
    this.strikes = this.strikes.filter((t) => now - t < 60_000);
    this.strikes.push(now);
    return this.strikes.length >= 5;
  }
}
