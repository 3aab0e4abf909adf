// Snapshots live in React Query under ['vote-stats', pollId]. Whatever delivers one (socket, SSE, polling, a vote's
// own answer), an older version never replaces a newer one.
import type { Snapshot } from '@livevote/core/protocol';
import type { QueryClient } from '@tanstack/react-query';

export const statsKey = (pollId: string) => ['vote-stats', pollId] as const;
export const pollKey = (pollId: string) => ['poll', pollId] as const;

/** Stores the snapshot when it is newer than what the cache has; returns whether it did. */
export function mergeSnapshot(client: QueryClient, snapshot: Snapshot): boolean {
  const key = statsKey(snapshot.poll_id);
  const have = client.getQueryData<Snapshot>(key);
  if (have && have.version >= snapshot.version) return false;
  client.setQueryData(key, snapshot);
  return true;
}
