// What a screen hears from one vote_update: the audience and leader changes folded into it (one frame per update),
// as well as the separate presence and leader_changed frames older servers send.
import type { ServerFrame, Snapshot } from '@livevote/core/protocol';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, renderHook } from '@testing-library/react';
import type { ReactNode } from 'react';
import { afterEach, beforeEach, expect, it, vi } from 'vitest';
import { useLivePoll } from './useLivePoll.ts';

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
  }
  send() {}
  close() {
    this.readyState = 3;
  }
  open() {
    this.readyState = 1;
    this.onopen?.();
  }
  receive(frame: ServerFrame) {
    this.onmessage?.({ data: JSON.stringify(frame) });
  }
}

const snap = (version: number): Snapshot => ({
  poll_id: 'p1',
  version,
  status: 'open',
  results_hidden: false,
  total_voters: version,
  leader: null,
  questions: [],
});

beforeEach(() => {
  FakeWebSocket.all = [];
  vi.stubGlobal('WebSocket', FakeWebSocket);
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response(JSON.stringify({ error: { code: 'x', message: 'x' } }), { status: 503 })),
  );
});
afterEach(() => {
  cleanup();
  vi.unstubAllGlobals();
});

function setup() {
  const client = new QueryClient({ defaultOptions: { queries: { retry: false } } });
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>{children}</QueryClientProvider>
  );
  const frames: ServerFrame[] = [];
  const hook = renderHook(() => useLivePoll('p1', null, (f) => frames.push(f)), { wrapper });
  const ws = FakeWebSocket.all.at(-1) as FakeWebSocket;
  act(() => ws.open());
  return { hook, ws, frames };
}

it('takes the audience and the leader changes from inside a vote_update', () => {
  const { hook, ws, frames } = setup();
  act(() =>
    ws.receive({
      type: 'vote_update',
      data: {
        ...snap(4),
        leader_changed: [{ question_id: 'place', option_id: 'p2', label: 'Sushi' }],
        presence: { online_count: 7, voting_count: 2 },
      },
    }),
  );
  expect(hook.result.current.presence).toEqual({ online: 7, voting: 2 });
  expect(frames.filter((f) => f.type === 'leader_changed')).toEqual([
    {
      type: 'leader_changed',
      data: { poll_id: 'p1', version: 4, question_id: 'place', option_id: 'p2', label: 'Sushi' },
    },
  ]);
});

it('keeps the audience it has when a vote_update carries none, and still reads separate frames', () => {
  const { hook, ws, frames } = setup();
  act(() => ws.receive({ type: 'presence', data: { poll_id: 'p1', online_count: 3, voting_count: 1 } }));
  act(() => ws.receive({ type: 'vote_update', data: snap(5) }));
  expect(hook.result.current.presence).toEqual({ online: 3, voting: 1 });
  act(() =>
    ws.receive({
      type: 'leader_changed',
      data: { poll_id: 'p1', version: 6, question_id: 'q1', option_id: null, label: null },
    }),
  );
  expect(frames.filter((f) => f.type === 'leader_changed')).toHaveLength(1);
});

it('reads the definition again, whole, when a vote_update shows an added option or a moved close time', async () => {
  const def = (options: string[], closesAt: string) => ({
    id: 'p1',
    title: 'T',
    template: 'choice',
    status: 'open',
    closes_at: closesAt,
    questions: [{ id: 'q1', options: options.map((label, i) => ({ id: `o${i + 1}`, label })) }],
  });
  const tally = (options: string[], version: number, closesAt: string): Snapshot => ({
    ...snap(version),
    closes_at: closesAt,
    questions: [
      {
        question_id: 'q1',
        kind: 'choice',
        voters: 0,
        leader: null,
        options: options.map((label, i) => ({ option_id: `o${i + 1}`, label, vote_count: 0 })),
      },
    ],
  });
  const [before, after] = ['2026-12-02T03:30:00.000Z', '2026-12-02T03:40:00.000Z'];
  let current = { poll: def(['Pizza', 'Sushi'], before), snapshot: tally(['Pizza', 'Sushi'], 1, before) };
  const asked: (string | null)[] = [];
  vi.stubGlobal(
    'fetch',
    vi.fn(async (_url: string, init?: RequestInit) => {
      const etag = new Headers(init?.headers).get('if-none-match');
      asked.push(etag);
      return etag === `"${current.snapshot.version}"`
        ? new Response(null, { status: 304 })
        : new Response(JSON.stringify(current), { status: 200 });
    }),
  );
  const { hook, ws } = setup();
  await vi.waitFor(() => expect(hook.result.current.poll?.questions[0]?.options).toHaveLength(2));
  // Another voter added Tacos, and the poll was extended: the socket says so first.
  current = {
    poll: def(['Pizza', 'Sushi', 'Tacos'], after),
    snapshot: tally(['Pizza', 'Sushi', 'Tacos'], 2, after),
  };
  act(() => ws.receive({ type: 'vote_update', data: current.snapshot }));
  await vi.waitFor(() => expect(hook.result.current.poll?.questions[0]?.options).toHaveLength(3));
  expect(hook.result.current.poll?.closes_at).toBe(after);
  expect(asked.at(-1)).toBeNull(); // not If-None-Match: "2", which the socket had just delivered
  // A close time that moved alone (an extension) is a changed definition too.
  const later = '2026-12-02T03:50:00.000Z';
  current = {
    poll: def(['Pizza', 'Sushi', 'Tacos'], later),
    snapshot: tally(['Pizza', 'Sushi', 'Tacos'], 3, later),
  };
  act(() => ws.receive({ type: 'vote_update', data: current.snapshot }));
  await vi.waitFor(() => expect(hook.result.current.poll?.closes_at).toBe(later));
});
