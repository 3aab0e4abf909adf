// The connection state a screen shows, against a fake server: honest when the server is gone, and back on the
// WebSocket by itself when it returns.
import type { Poll, Snapshot } from '@livevote/core/protocol';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SOCKET_RETRY_MS, useLivePoll } from './useLivePoll.ts';

const net = { server: true, socket: true, sse: true };

class FakeWebSocket {
  static readonly OPEN = 1;
  static all: FakeWebSocket[] = [];
  readonly OPEN = 1;
  readyState = 0;
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeWebSocket.all.push(this);
    setTimeout(() => {
      if (this.readyState === 3) return;
      if (net.server && net.socket) {
        this.readyState = 1;
        this.onopen?.();
      } else this.drop();
    }, 10);
  }
  send() {}
  close() {
    this.drop();
  }
  drop() {
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.();
  }
}

class FakeEventSource {
  static all: FakeEventSource[] = [];
  onopen: (() => void) | null = null;
  onerror: (() => void) | null = null;
  closed = false;
  constructor(readonly url: string) {
    FakeEventSource.all.push(this);
    setTimeout(() => (net.server && net.sse ? this.onopen?.() : this.onerror?.()), 10);
  }
  addEventListener() {}
  close() {
    this.closed = true;
  }
}

const poll = { id: 'p1', title: 'T', template: 'choice', status: 'open', questions: [] } as unknown as Poll;
const snapshot: Snapshot = {
  poll_id: 'p1',
  version: 1,
  status: 'open',
  results_hidden: false,
  total_voters: 0,
  leader: null,
  questions: [],
};

function setup() {
  const client = new QueryClient();
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>{children}</QueryClientProvider>
  );
  return renderHook(() => useLivePoll('p1', null), { wrapper });
}
const lastSocket = () => FakeWebSocket.all.at(-1) as FakeWebSocket;

beforeEach(() => {
  Object.assign(net, { server: true, socket: true, sse: true });
  FakeWebSocket.all = [];
  FakeEventSource.all = [];
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(1); // the longest delay of each backoff step
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal('EventSource', FakeEventSource);
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => {
      if (!net.server) throw new TypeError('fetch failed');
      return new Response(JSON.stringify({ poll, snapshot }), { status: 200 });
    }),
  );
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

/** Time passes in small steps, so React renders and runs its effects in between, as in a browser. */
async function advance(ms: number) {
  for (let left = ms; left > 0; left -= 250)
    await act(() => vi.advanceTimersByTimeAsync(Math.min(250, left)));
}

describe('useLivePoll: the connection a screen shows', () => {
  it('says offline within a second of the server going away, and comes back live by itself', async () => {
    const { result } = setup();
    await advance(100);
    expect(result.current.connection).toBe('live');
    expect(result.current.lastContact).not.toBeNull();

    net.server = false;
    act(() => lastSocket().drop());
    await advance(1_000);
    expect(result.current.connection).toBe('offline');
    await advance(20_000); // the retries run out and later polls fail too: it stays offline, no flicker
    expect(result.current.connection).toBe('offline');

    net.server = true;
    await advance(8_000); // the next poll (every 5 s, after the retry backoff) answers; the socket is tried at once
    expect(result.current.connection).toBe('live');
  });

  it('goes back to the WebSocket within SOCKET_RETRY_MS once it works again, while SSE carried the updates', async () => {
    const { result } = setup();
    await advance(100);
    net.socket = false;
    act(() => lastSocket().drop());
    await advance(120_000); // the socket's own backoff has grown to 30 s meanwhile
    expect(result.current.connection).toBe('sse');

    net.socket = true;
    await advance(SOCKET_RETRY_MS + 100);
    expect(result.current.connection).toBe('live');
    expect(FakeEventSource.all.every((es) => es.closed)).toBe(true);
  });
});
