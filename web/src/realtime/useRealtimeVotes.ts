// The fallback path, API-compatible with the original client: poll GET /api/polls/:id with If-None-Match (a 304
// costs nothing) while `enabled`, typically whenever the socket is down. Results go into the same cache entries.
import type { Poll, Snapshot } from '@livevote/core/protocol';
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { fetchPoll } from '../api.ts';
import { mergeSnapshot, pollKey, statsKey, takeStaleDefinition } from './snapshot-cache.ts';

export interface RealtimeVotesOptions {
  pollId: string;
  refetchInterval?: number | false;
  enabled?: boolean;
}

export function useRealtimeVotes({ pollId, refetchInterval = 5_000, enabled = true }: RealtimeVotesOptions) {
  const client = useQueryClient();
  const poll = useQuery({
    queryKey: pollKey(pollId),
    queryFn: async () => {
      const have = client.getQueryData<Snapshot>(statsKey(pollId));
      const fresh = await fetchPoll(pollId, takeStaleDefinition(client, pollId) ? undefined : have?.version);
      if (!fresh) return client.getQueryData<Poll>(pollKey(pollId)) as Poll; // 304: nothing new
      mergeSnapshot(client, fresh.snapshot);
      return fresh.poll;
    },
    refetchInterval: enabled ? refetchInterval : false,
    refetchIntervalInBackground: true,
    retry: (failures, err) =>
      failures < 3 && !(err instanceof Error && 'status' in err && err.status === 404),
  });
  const stats = useQuery({
    queryKey: statsKey(pollId),
    // Filled by mergeSnapshot from every source; this only runs if nothing has filled it yet.
    queryFn: async () => (await fetchPoll(pollId))?.snapshot as Snapshot,
    enabled: poll.isSuccess,
    staleTime: Number.POSITIVE_INFINITY,
  });
  return {
    poll: poll.data,
    snapshot: stats.data,
    error: poll.error,
    isLoading: poll.isLoading,
    /** Failed tries of the current fetch: above 0 as soon as the server did not answer once. */
    failureCount: poll.failureCount,
    /** When the server last answered a poll read (0: never). */
    updatedAt: poll.dataUpdatedAt,
    refetch: poll.refetch,
  };
}
