// Typed calls to the REST API; errors become ApiError with the server's code and message.
import type {
  CatalogResponse,
  CloseResponse,
  CreatePollBody,
  ErrorBody,
  MyVotesResponse,
  PollListResponse,
  PollResponse,
  RevealResponse,
  TimelineResponse,
  VoteResponse,
} from '@livevote/core/protocol';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, 'network', 'No connection to the server.');
  }
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as Partial<ErrorBody> | null;
    throw new ApiError(res.status, body?.error?.code ?? 'http_error', body?.error?.message ?? res.statusText);
  }
  return (await res.json()) as T;
}

const jsonInit = (method: string, body: unknown, headers: Record<string, string> = {}): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...headers },
  body: JSON.stringify(body),
});

export type PollWithSnapshot = PollResponse;

export const READ_TIMEOUT_MS = 2_500;

/** GET /api/polls/:id with If-None-Match: null when nothing changed since `version`. */
export async function fetchPoll(pollId: string, version?: number): Promise<PollWithSnapshot | null> {
  const headers: Record<string, string> = version === undefined ? {} : { 'if-none-match': `"${version}"` };
  // A server that hangs counts as gone after a few seconds, so the board can say so.
  const res = await fetch(`/api/polls/${encodeURIComponent(pollId)}`, {
    headers,
    signal: AbortSignal.timeout(READ_TIMEOUT_MS),
  }).catch(() => {
    throw new ApiError(0, 'network', 'No connection to the server.');
  });
  if (res.status === 304) return null;
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as Partial<ErrorBody> | null;
    throw new ApiError(res.status, body?.error?.code ?? 'http_error', body?.error?.message ?? res.statusText);
  }
  return (await res.json()) as PollWithSnapshot;
}

/** Who is voting: an employee number (open mode) or a signed voter token from a chat link (any mode). */
export type Who = { empNo: string } | { token: string };
export const whoQuery = (who: Who) =>
  'token' in who ? `token=${encodeURIComponent(who.token)}` : `emp_no=${encodeURIComponent(who.empNo)}`;

export type VoteResult = VoteResponse;

export const castVote = (pollId: string, who: Who, questionId: string, optionIds: string[], key: string) =>
  call<VoteResult>(
    `/api/polls/${encodeURIComponent(pollId)}/votes?${whoQuery(who)}`,
    jsonInit('POST', { question_id: questionId, option_ids: optionIds }, { 'idempotency-key': key }),
  );

export const retractVote = (pollId: string, who: Who, questionId: string) =>
  call<VoteResult>(
    `/api/polls/${encodeURIComponent(pollId)}/votes/${encodeURIComponent(questionId)}?${whoQuery(who)}`,
    { method: 'DELETE' },
  );

export const listPolls = () => call<PollListResponse>('/api/polls');

const admin = (token: string) => ({ authorization: `Bearer ${token}` });

export const createPoll = (token: string, body: CreatePollBody) =>
  call<PollWithSnapshot>('/api/polls', jsonInit('POST', body, admin(token)));

export const closePoll = (token: string, pollId: string) =>
  call<CloseResponse>(`/api/polls/${encodeURIComponent(pollId)}/close`, {
    method: 'POST',
    headers: admin(token),
  });

export const revealResults = (token: string, pollId: string) =>
  call<RevealResponse>(`/api/polls/${encodeURIComponent(pollId)}/reveal`, {
    method: 'POST',
    headers: admin(token),
  });

export async function exportCsv(token: string, pollId: string): Promise<Blob> {
  const res = await fetch(`/api/polls/${encodeURIComponent(pollId)}/export.csv`, { headers: admin(token) });
  if (!res.ok) throw new ApiError(res.status, 'export_failed', 'Export failed; check the admin token.');
  return res.blob();
}

export const fetchCatalog = () => call<CatalogResponse>('/api/catalog/places');

/**
 * The caller's own ballots. An anonymous poll, or one hiding its results, tells them only to a signed voter link;
 * for a bare employee number the page starts without their earlier choice, and their next tap votes anew.
 */
export async function fetchMyVotes(pollId: string, who: Who): Promise<MyVotesResponse> {
  try {
    return await call<MyVotesResponse>(`/api/polls/${encodeURIComponent(pollId)}/my-votes?${whoQuery(who)}`);
  } catch (e) {
    if (e instanceof ApiError && e.code === 'token_required') return { ballots: {} };
    throw e;
  }
}

/** Voters over time, for the board's chart (empty while the poll hides its turnout). */
export const fetchTimeline = (pollId: string) =>
  call<TimelineResponse>(`/api/polls/${encodeURIComponent(pollId)}/timeline`);
