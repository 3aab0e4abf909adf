import type { ServerFrame } from '@livevote/core/protocol';
import { act, cleanup, renderHook } from '@testing-library/react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { backoffDelay, PING_INTERVAL_MS, socketUrl, useRealtimeWebSocket } from './useRealtimeWebSocket.ts';

class FakeWebSocket {
  static readonly CONNECTING = 0;
  static readonly OPEN = 1;
  static readonly CLOSED = 3;
  static all: FakeWebSocket[] = [];
  readonly OPEN = 1;
  readyState = 0;
  sent: string[] = [];
  onopen: (() => void) | null = null;
  onmessage: ((e: { data: string }) => void) | null = null;
  onerror: ((e: unknown) => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    FakeWebSocket.all.push(this);
  }
  send(data: string) {
    this.sent.push(data);
  }
  close() {
    this.readyState = 3;
    this.onclose?.();
  }
  // test controls
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(frame: ServerFrame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
  drop() {
    this.readyState = 3;
    this.onclose?.();
  }
}

const update = (version: number): ServerFrame => ({
  type: 'vote_update',
  data: {
    poll_id: 'p1',
    version,
    status: 'open',
    results_hidden: false,
    total_voters: version,
    leader: null,
    questions: [],
  },
});
const last = () => FakeWebSocket.all.at(-1) as FakeWebSocket;

beforeEach(() => {
  FakeWebSocket.all = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.useFakeTimers();
  vi.spyOn(Math, 'random').mockReturnValue(1); // the longest delay of each backoff step
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
  vi.unstubAllGlobals();
  vi.restoreAllMocks();
});

describe('useRealtimeWebSocket', () => {
  it('connects with emp_no and poll_id, and reports connection and messages', () => {
    const onMessage = vi.fn();
    const { result } = renderHook(() =>
      useRealtimeWebSocket({ empNo: '12345', pollId: 'p1', url: 'ws://h/ws/votes', onMessage }),
    );
    expect(last().url).toBe('ws://h/ws/votes?emp_no=12345&poll_id=p1');
    expect(result.current.isConnected).toBe(false);
    act(() => last().open());
    expect(result.current.isConnected).toBe(true);
    act(() => last().receive(update(3)));
    expect(result.current.lastMessage).toEqual(update(3));
    expect(onMessage).toHaveBeenCalledWith(update(3));
  });

  it('ignores a snapshot older than the newest it has seen', () => {
    const onMessage = vi.fn();
    const { result } = renderHook(() =>
      useRealtimeWebSocket({ pollId: 'p1', url: 'ws://h/ws/votes', onMessage }),
    );
    act(() => last().open());
    act(() => last().receive(update(5)));
    act(() => last().receive(update(4)));
    act(() => last().receive(update(5)));
    expect(onMessage).toHaveBeenCalledTimes(1);
    expect(result.current.lastMessage).toEqual(update(5));
  });

  it('reconnects with growing, capped backoff and resyncs from the last version', () => {
    renderHook(() => useRealtimeWebSocket({ empNo: '1', pollId: 'p1', url: 'ws://h/ws/votes' }));
    act(() => last().open());
    act(() => last().receive(update(7)));
    const delays: number[] = [];
    for (let i = 0; i < 8; i++) {
      const before = FakeWebSocket.all.length;
      act(() => last().drop());
      const d = backoffDelay(i, () => 1);
      act(() => vi.advanceTimersByTime(d - 1));
      expect(FakeWebSocket.all.length).toBe(before); // not yet
      act(() => vi.advanceTimersByTime(1));
      expect(FakeWebSocket.all.length).toBe(before + 1);
      delays.push(d);
    }
    expect(delays).toEqual([500, 1000, 2000, 4000, 8000, 16000, 30000, 30000]);
    expect(new URL(last().url).searchParams.get('version')).toBe('7');
    act(() => last().open()); // a successful connection resets the backoff
    act(() => last().drop());
    const before = FakeWebSocket.all.length;
    act(() => vi.advanceTimersByTime(500));
    expect(FakeWebSocket.all.length).toBe(before + 1);
  });

  it('pings every 30 s while open, and sends only when open', () => {
    const { result } = renderHook(() => useRealtimeWebSocket({ pollId: 'p1', url: 'ws://h/ws/votes' }));
    expect(result.current.sendMessage('voting', { poll_id: 'p1' })).toBe(false);
    act(() => last().open());
    act(() => vi.advanceTimersByTime(PING_INTERVAL_MS * 2));
    expect(last().sent.filter((s) => s === '{"type":"ping"}')).toHaveLength(2);
    expect(result.current.sendMessage('voting', { poll_id: 'p1' })).toBe(true);
    expect(last().sent.at(-1)).toBe('{"type":"voting","data":{"poll_id":"p1"}}');
  });

  it('stops on disconnect() and on unmount, and reconnect() opens a fresh socket', () => {
    const { result, unmount } = renderHook(() =>
      useRealtimeWebSocket({ pollId: 'p1', url: 'ws://h/ws/votes' }),
    );
    act(() => last().open());
    act(() => result.current.disconnect());
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeWebSocket.all).toHaveLength(1);
    act(() => result.current.reconnect());
    expect(FakeWebSocket.all).toHaveLength(2);
    unmount();
    expect(last().readyState).toBe(3);
    act(() => vi.advanceTimersByTime(60_000));
    expect(FakeWebSocket.all).toHaveLength(2);
  });
});

describe('backoffDelay and socketUrl', () => {
  it('keeps each delay within 50–100 % of min(30 s, 500 ms · 2^n)', () => {
    for (let n = 0; n < 12; n++) {
      const base = Math.min(30_000, 500 * 2 ** n);
      expect(backoffDelay(n, () => 0)).toBe(base / 2);
      expect(backoffDelay(n, () => 0.999999)).toBeLessThanOrEqual(base);
    }
  });

  it('prefers a signed token over emp_no', () => {
    expect(socketUrl({ url: 'ws://h/ws/votes', empNo: '1', token: 't.k', pollId: 'p' })).toBe(
      'ws://h/ws/votes?token=t.k&poll_id=p',
    );
  });
});
