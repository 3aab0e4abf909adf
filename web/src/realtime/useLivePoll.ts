// Everything a screen needs to show one poll live: the WebSocket first; when it is down, SSE where the browser
// has it, and polling with ETag underneath as the safety net. All sources feed one version-guarded cache.
import type { ServerFrame } from '@livevote/core/protocol';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useRef, useState } from 'react';
import { mergeSnapshot, pollKey, refreshDefinition } from './snapshot-cache.ts';
import { useRealtimeVotes } from './useRealtimeVotes.ts';
import { useRealtimeWebSocket } from './useRealtimeWebSocket.ts';

export type Connection = 'live' | 'sse' | 'polling' | 'offline';

const SSE_EVENTS = ['vote_update', 'presence', 'leader_changed', 'poll_closed'] as const;
/** The socket gets this long to connect before SSE is tried, so a normal page load opens one stream, not two. */
const SSE_GRACE_MS = 2_000;
/** While the server answers over SSE or polling but the socket is down, the socket is tried again this often. */
export const SOCKET_RETRY_MS = 10_000;

export function useLivePoll(
  pollId: string,
  who: { empNo: string } | { token: string } | null,
  onFrame?: (f: ServerFrame) => void,
) {
  const client = useQueryClient();
  const [presence, setPresence] = useState({ online: 0, voting: 0 });
  const [sseOpen, setSseOpen] = useState(false);
  /** When the server was last heard from (a frame, an SSE event, a poll read), for "last update 12:03". */
  const lastContact = useRef<number | null>(null);

  const onMessage = useCallback(
    (f: ServerFrame) => {
      lastContact.current = Date.now();
      if (f.type === 'vote_update') {
        const poll = client.getQueryData<{
          status: string;
          closes_at: string | null;
          questions: { options: unknown[] }[];
        }>(pollKey(pollId));
        if (mergeSnapshot(client, f.data) && poll) {
          const count = (qs: { options: unknown[] }[]) => qs.reduce((n, q) => n + q.options.length, 0);
          // An option was added, the poll closed or its close time moved: the definition changed too.
          if (
            poll.status !== f.data.status ||
            count(poll.questions) !== count(f.data.questions) ||
            (f.data.closes_at !== undefined && f.data.closes_at !== poll.closes_at)
          ) {
            refreshDefinition(client, pollId);
          }
        }
        // A vote_update carries the audience and leader changes when they moved (one frame per update); screens
        // hear them as they heard the separate presence and leader_changed frames, which older servers send.
        if (f.data.poll_id === pollId && f.data.presence) {
          setPresence({ online: f.data.presence.online_count, voting: f.data.presence.voting_count });
        }
        for (const change of f.data.leader_changed ?? []) {
          onFrame?.({
            type: 'leader_changed',
            data: { poll_id: f.data.poll_id, version: f.data.version, ...change },
          });
        }
      } else if (f.type === 'presence' && f.data.poll_id === pollId) {
        setPresence({ online: f.data.online_count, voting: f.data.voting_count });
      }
      onFrame?.(f);
    },
    [client, pollId, onFrame],
  );

  const socket = useRealtimeWebSocket({
    empNo: who && 'empNo' in who ? who.empNo : null,
    token: who && 'token' in who ? who.token : null,
    pollId,
    onMessage,
  });
  const [socketDown, setSocketDown] = useState(false);
  useEffect(() => {
    if (socket.isConnected) {
      setSocketDown(false);
      return;
    }
    const id = setTimeout(() => setSocketDown(true), SSE_GRACE_MS);
    return () => clearTimeout(id);
  }, [socket.isConnected]);

  useEffect(() => {
    if (!socketDown || typeof EventSource === 'undefined') {
      setSseOpen(false);
      return;
    }
    const es = new EventSource(`/api/polls/${encodeURIComponent(pollId)}/events`);
    es.onopen = () => {
      lastContact.current = Date.now();
      setSseOpen(true);
    };
    es.onerror = () => setSseOpen(false);
    for (const type of SSE_EVENTS) {
      es.addEventListener(type, (e) => {
        try {
          onMessage({ type, data: JSON.parse((e as MessageEvent<string>).data) } as ServerFrame);
        } catch {
          // a malformed event is skipped; the next snapshot carries the whole state anyway
        }
      });
    }
    return () => es.close();
  }, [socketDown, pollId, onMessage]);

  const votes = useRealtimeVotes({ pollId, enabled: !socket.isConnected, refetchInterval: 5_000 });
  if (votes.updatedAt > (lastContact.current ?? 0)) lastContact.current = votes.updatedAt;
  // The server did not answer a read: offline at once, not after the retries run out.
  const failing = votes.error !== null || votes.failureCount > 0;
  const connection: Connection = socket.isConnected
    ? 'live'
    : sseOpen
      ? 'sse'
      : failing
        ? 'offline'
        : votes.poll
          ? 'polling'
          : 'offline';

  // The socket just dropped: ask the server at once whether it is still there, rather than at the next poll.
  const { refetch } = votes;
  const hadSocket = useRef(false);
  useEffect(() => {
    if (socket.isConnected) hadSocket.current = true;
    else if (hadSocket.current) void refetch();
  }, [socket.isConnected, refetch]);

  // Back to the WebSocket when it returns: at once when the server answers again after an outage, and every
  // SOCKET_RETRY_MS while SSE or polling carry the updates (the socket's own backoff grows to 30 s).
  const { reconnect, isConnected } = socket;
  const wasFailing = useRef(false);
  useEffect(() => {
    if (failing) wasFailing.current = true;
    else if (wasFailing.current) {
      wasFailing.current = false;
      if (!isConnected) reconnect();
    }
  }, [failing, isConnected, reconnect]);
  const fallback = connection === 'sse' || connection === 'polling';
  useEffect(() => {
    if (!fallback) return;
    const id = setInterval(reconnect, SOCKET_RETRY_MS);
    return () => clearInterval(id);
  }, [fallback, reconnect]);

  return { ...votes, presence, connection, socket, lastContact: lastContact.current };
}
