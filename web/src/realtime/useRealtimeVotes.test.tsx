import type { Poll, Snapshot } from '@livevote/core/protocol';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, renderHook, waitFor } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { mergeSnapshot, statsKey } from './snapshot-cache.ts';
import { useRealtimeVotes } from './useRealtimeVotes.ts';

const poll = { id: 'p1', title: 'T', template: 'choice', status: 'open', questions: [] } as unknown as Poll;
const snap = (version: number): Snapshot => ({
  poll_id: 'p1',
  version,
  status: 'open',
  results_hidden: false,
  total_voters: version,
  leader: null,
  questions: [],
});

function server(responses: (headers: Headers) => Response) {
  const calls: Headers[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init?: RequestInit) => {
      const h = new Headers(init?.headers);
      calls.push(h);
      return responses(h);
    }),
  );
  return calls;
}
const json = (version: number) =>
  new Response(JSON.stringify({ poll, snapshot: snap(version) }), { status: 200 });

function setup(enabled: boolean, refetchInterval = 1000) {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>{children}</QueryClientProvider>
  );
  const hook = renderHook(() => useRealtimeVotes({ pollId: 'p1', enabled, refetchInterval }), { wrapper });
  return { client, hook };
}

afterEach(() => {
  cleanup(); // unmount, so one test's polling never leaks into the next
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe('useRealtimeVotes (the polling fallback)', () => {
  it('fills the cache, then asks with If-None-Match and keeps its data on a 304', async () => {
    let version = 2;
    const calls = server((h) =>
      h.get('if-none-match') === `"${version}"` ? new Response(null, { status: 304 }) : json(version),
    );
    const { client, hook } = setup(true, 50);
    await waitFor(() => expect(hook.result.current.snapshot?.version).toBe(2));
    expect(calls[0]?.get('if-none-match')).toBeNull();
    await waitFor(() => expect(calls.length).toBeGreaterThanOrEqual(3));
    expect(calls.slice(1).every((h) => h.get('if-none-match') === '"2"')).toBe(true);
    expect(client.getQueryData<Snapshot>(statsKey('p1'))?.version).toBe(2);
    version = 3; // something changed: the next poll gets a 200 with the new snapshot
    await waitFor(() => expect(hook.result.current.snapshot?.version).toBe(3));
  });

  it('does not poll while disabled (the socket is up)', async () => {
    const calls = server(() => json(1));
    const { hook } = setup(false, 20);
    await waitFor(() => expect(hook.result.current.poll).toBeDefined());
    const n = calls.length;
    await new Promise((r) => setTimeout(r, 120));
    expect(calls.length).toBe(n);
  });

  it('never lets an older snapshot replace a newer one, whatever delivered it', () => {
    const client = new QueryClient();
    expect(mergeSnapshot(client, snap(5))).toBe(true);
    expect(mergeSnapshot(client, snap(4))).toBe(false);
    expect(mergeSnapshot(client, snap(5))).toBe(false);
    expect(client.getQueryData<Snapshot>(statsKey('p1'))?.version).toBe(5);
    expect(mergeSnapshot(client, snap(6))).toBe(true);
  });
});
