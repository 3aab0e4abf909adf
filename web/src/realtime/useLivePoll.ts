// Everything a screen needs to show one poll live: the WebSocket first; when it is down, SSE where the browser
// has it, and polling with ETag underneath as the safety net. All sources feed one version-guarded cache.
import type { ServerFrame } from '@livevote/core/protocol';
import { useQueryClient } from '@tanstack/react-query';
import { useCallback, useEffect, useState } from 'react';
import { mergeSnapshot, pollKey } from './snapshot-cache.ts';
import { useRealtimeVotes } from './useRealtimeVotes.ts';
import { useRealtimeWebSocket } from './useRealtimeWebSocket.ts';

export type Connection = 'live' | 'sse' | 'polling' | 'offline';

const SSE_EVENTS = ['vote_update', 'presence', 'leader_changed', 'poll_closed'] as const;
/** The socket gets this long to connect before SSE is tried, so a normal page load opens one stream, not two. */
const SSE_GRACE_MS = 2_000;

export function useLivePoll(
  pollId: string,
  who: { empNo: string } | { token: string } | null,
  onFrame?: (f: ServerFrame) => void,
) {
  const client = useQueryClient();
  const [presence, setPresence] = useState({ online: 0, voting: 0 });
  const [sseOpen, setSseOpen] = useState(false);

  const onMessage = useCallback(
    (f: ServerFrame) => {
      if (f.type === 'vote_update') {
        const poll = client.getQueryData<{ status: string; questions: { options: unknown[] }[] }>(
          pollKey(pollId),
        );
        if (mergeSnapshot(client, f.data) && poll) {
          const count = (qs: { options: unknown[] }[]) => qs.reduce((n, q) => n + q.options.length, 0);
          // An option was added or the poll closed: the definition changed too.
          if (poll.status !== f.data.status || count(poll.questions) !== count(f.data.questions)) {
            void client.invalidateQueries({ queryKey: pollKey(pollId) });
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
    es.onopen = () => setSseOpen(true);
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
  const connection: Connection = socket.isConnected
    ? 'live'
    : sseOpen
      ? 'sse'
      : votes.error
        ? 'offline'
        : votes.poll
          ? 'polling'
          : 'offline';
  return { ...votes, presence, connection, socket };
}
