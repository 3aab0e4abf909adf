// One WebSocket client as a hub Subscriber. Frames are written pre-framed (one shared buffer for every socket) to
// the socket the upgrade handed over, instead of through ws.send, which would frame the same bytes once per socket.
// That is only the same as ws.send because ws writes every frame synchronously when nothing makes it wait:
// no permessage-deflate (the gateway turns it off) and no Blob payloads (never sent). Frames from ws.send, ws.ping
// and ws.close and ours then reach the socket in call order. ws is pinned to an exact version, and
// ws-connection.test.ts fails if its framing or its synchronous writes change.
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

export class WsConnection implements Subscriber {
  alive = true;
  readonly polls = new Set<string>();
  /** When the last few bad frames came (performance.now()); most connections never send one. */
  private strikes?: number[];
  private tokens = 40;
  private lastRefill = performance.now();

  constructor(
    readonly id: string,
    readonly ws: WebSocket,
    /** The socket passed to wss.handleUpgrade for this ws: the one ws writes its own frames to. */
    private readonly socket: Duplex,
    readonly voter: Voter | null,
    /** Connected as the original lunch-vote client does (no poll named): it also gets per-option frames. */
    readonly originalClient = false,
  ) {}

  deliver(frames: PreparedFrame[]): boolean {
    if (this.ws.readyState !== WebSocket.OPEN) return true; // closing: nothing to catch up
    // bufferedAmount counts the socket's unsent bytes, ours included, since we write to that same socket.
    if (this.ws.bufferedAmount > HIGH_WATER) return false;
    this.socket.write(joinedFrames(frames));
    return true;
  }

  drained(): boolean {
    return this.ws.readyState !== WebSocket.OPEN || this.ws.bufferedAmount < LOW_WATER;
  }

  /** A message for this client alone (ack, pong, error): unlike broadcasts it has no newer copy to catch up with. */
  write(f: PreparedFrame): void {
    // After ws.close() has sent its close frame, anything more would break the protocol; ws.send drops it too.
    if (this.ws.readyState === WebSocket.OPEN) this.socket.write(f.wsFrame);
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
    this.strikes = (this.strikes ?? []).filter((t) => now - t < 60_000);
    this.strikes.push(now);
    return this.strikes.length >= 5;
  }
}
