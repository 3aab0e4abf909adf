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

/** Polls whose definition is known to have changed since it was read, per client: the next read asks for it whole. */
const staleDefinitions = new WeakMap<QueryClient, Set<string>>();

/**
 * The poll's definition changed (an option added, closed, its close time moved): read it again, without
 * If-None-Match. The version that announced the change is usually already in the cache, and a read conditional on
 * it would be answered 304 with the old definition kept.
 */
export function refreshDefinition(client: QueryClient, pollId: string): void {
  let stale = staleDefinitions.get(client);
  if (!stale) {
    stale = new Set();
    staleDefinitions.set(client, stale);
  }
  stale.add(pollId);
  void client.invalidateQueries({ queryKey: pollKey(pollId) });
}

/** Whether the next read of the definition must be whole (and it is no longer marked). */
export function takeStaleDefinition(client: QueryClient, pollId: string): boolean {
  return staleDefinitions.get(client)?.delete(pollId) ?? false;
}
