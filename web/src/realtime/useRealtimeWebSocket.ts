// The original client's hook, kept API-compatible: one socket to /ws/votes with reconnect (exponential backoff with
// jitter), an app-level ping every 30 s, and on reconnect a resync from the last version it saw.
import type { ServerFrame } from '@livevote/core/protocol';
import { useCallback, useEffect, useRef, useState } from 'react';

export interface RealtimeOptions {
  empNo?: string | null;
  /** A signed voter token (from a chat link) instead of an emp_no. */
  token?: string | null;
  pollId?: string | null;
  autoReconnect?: boolean;
  onMessage?: (frame: ServerFrame) => void;
  onError?: (event: Event | Error) => void;
  /** ws://host/ws/votes by default, from the page's own origin. */
  url?: string;
}

export interface RealtimeSocket {
  isConnected: boolean;
  lastMessage: ServerFrame | null;
  sendMessage: (type: string, data?: unknown) => boolean;
  reconnect: () => void;
  disconnect: () => void;
}

export const PING_INTERVAL_MS = 30_000;
const MAX_BACKOFF_MS = 30_000;

/** 0.5 s, 1 s, 2 s … up to 30 s, each scaled by a random 50–100 % so clients don't reconnect in lockstep. */
export function backoffDelay(attempt: number, random: () => number = Math.random): number {
  const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt);
  return Math.round(base * (0.5 + random() * 0.5));
}

export function socketUrl(
  opts: Pick<RealtimeOptions, 'url' | 'empNo' | 'pollId' | 'token'>,
  version?: number,
): string {
  const base =
    opts.url ??
    (typeof location === 'undefined'
      ? 'ws://localhost:5000/ws/votes'
      : `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws/votes`);
  const u = new URL(base);
  if (opts.token) u.searchParams.set('token', opts.token);
  else if (opts.empNo) u.searchParams.set('emp_no', opts.empNo);
  if (opts.pollId) u.searchParams.set('poll_id', opts.pollId);
  if (version !== undefined) u.searchParams.set('version', String(version));
  return u.toString();
}

export function useRealtimeWebSocket(options: RealtimeOptions): RealtimeSocket {
  const { empNo, token, pollId, autoReconnect = true, url } = options;
  const [isConnected, setConnected] = useState(false);
  const [lastMessage, setLastMessage] = useState<ServerFrame | null>(null);
  const wsRef = useRef<WebSocket | null>(null);
  const handlers = useRef(options);
  handlers.current = options;
  const attempt = useRef(0);
  const version = useRef<number | undefined>(undefined);
  const timers = useRef<{ retry?: ReturnType<typeof setTimeout>; ping?: ReturnType<typeof setInterval> }>({});
  const wanted = useRef(true);
  const [generation, setGeneration] = useState(0);

  // biome-ignore lint/correctness/useExhaustiveDependencies: `generation` is how reconnect() asks for a new socket
  useEffect(() => {
    wanted.current = true;
    let ws: WebSocket;
    const clearTimers = () => {
      clearTimeout(timers.current.retry);
      clearInterval(timers.current.ping);
    };
    const open = () => {
      ws = new WebSocket(socketUrl({ url, empNo, token, pollId }, version.current));
      wsRef.current = ws;
      ws.onopen = () => {
        attempt.current = 0;
        setConnected(true);
        timers.current.ping = setInterval(() => {
          if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ type: 'ping' }));
        }, PING_INTERVAL_MS);
      };
      ws.onmessage = (e) => {
        let frame: ServerFrame;
        try {
          frame = JSON.parse(String(e.data)) as ServerFrame;
        } catch {
          return;
        }
        if (frame.type === 'vote_update' && frame.data.poll_id === pollId) {
          if (version.current !== undefined && frame.data.version <= version.current) return; // older: ignore
          version.current = frame.data.version;
        }
        setLastMessage(frame);
        handlers.current.onMessage?.(frame);
      };
      ws.onerror = (e) => handlers.current.onError?.(e);
      ws.onclose = () => {
        clearInterval(timers.current.ping);
        setConnected(false);
        if (wsRef.current === ws) wsRef.current = null;
        if (wanted.current && autoReconnect) {
          timers.current.retry = setTimeout(open, backoffDelay(attempt.current++));
        }
      };
    };
    open();
    return () => {
      wanted.current = false;
      clearTimers();
      ws.onclose = null;
      ws.close();
      wsRef.current = null;
      setConnected(false);
    };
  }, [url, empNo, token, pollId, autoReconnect, generation]);

  const sendMessage = useCallback((type: string, data?: unknown) => {
    const ws = wsRef.current;
    if (!ws || ws.readyState !== WebSocket.OPEN) return false;
    ws.send(JSON.stringify(data === undefined ? { type } : { type, data }));
    return true;
  }, []);

  const reconnect = useCallback(() => {
    attempt.current = 0;
    setGeneration((g) => g + 1);
  }, []);

  const disconnect = useCallback(() => {
    wanted.current = false;
    clearTimeout(timers.current.retry);
    wsRef.current?.close();
  }, []);

  return { isConnected, lastMessage, sendMessage, reconnect, disconnect };
}
