import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError, fetchMyVotes } from './api.ts';

const answer = (status: number, body: unknown) =>
  vi.stubGlobal(
    'fetch',
    vi.fn(async () => new Response(JSON.stringify(body), { status })),
  );
const error = (code: string) => ({ error: { code, message: code } });

describe('fetchMyVotes', () => {
  afterEach(() => vi.unstubAllGlobals());

  it('starts blank where the poll tells a bare employee number nothing, and fails on anything else', async () => {
    answer(200, { ballots: { q1: ['o1'] } });
    expect(await fetchMyVotes('p', { empNo: '1' })).toEqual({ ballots: { q1: ['o1'] } });
    answer(403, error('token_required'));
    expect(await fetchMyVotes('p', { empNo: '1' })).toEqual({ ballots: {} });
    answer(403, error('forbidden'));
    await expect(fetchMyVotes('p', { empNo: '1' })).rejects.toBeInstanceOf(ApiError);
  });
});
