// Typed calls for the lunch pages: the places catalog (the admin's), visit history and the headcount.
import type {
  CatalogImportResponse,
  CatalogPlace,
  CatalogPlaceInput,
  CatalogPlacePatch,
  CatalogPlaceResponse,
  CatalogResponse,
  ErrorBody,
  HeadcountResponse,
  VisitsResponse,
} from '@livevote/core/protocol';

export const TOKEN_KEY = 'livevote.admin_token';

export class LunchApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function call<T>(path: string, init: RequestInit = {}): Promise<T> {
  const res = await fetch(path, init).catch(() => {
    throw new LunchApiError(0, 'network', 'No connection to the server.');
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => null)) as Partial<ErrorBody> | null;
    throw new LunchApiError(
      res.status,
      body?.error?.code ?? 'http_error',
      body?.error?.message ?? res.statusText,
    );
  }
  return (await res.json()) as T;
}

const auth = (token: string) => ({ authorization: `Bearer ${token}` });
const json = (method: string, token: string, body: unknown): RequestInit => ({
  method,
  headers: { 'content-type': 'application/json', ...auth(token) },
  body: JSON.stringify(body),
});

export const listPlaces = (token: string) =>
  call<CatalogResponse>('/api/catalog/places?include_inactive=true', { headers: auth(token) });

export const addPlace = (token: string, place: Partial<CatalogPlaceInput>) =>
  call<CatalogPlaceResponse>('/api/catalog/places', json('POST', token, place));

export const savePlace = (token: string, id: string, patch: CatalogPlacePatch) =>
  call<CatalogPlaceResponse>(`/api/catalog/places/${encodeURIComponent(id)}`, json('PATCH', token, patch));

export async function exportPlaces(token: string): Promise<Blob> {
  const res = await fetch('/api/catalog/export.csv', { headers: auth(token) });
  if (!res.ok) throw new LunchApiError(res.status, 'export_failed', 'Export failed; check the admin token.');
  return res.blob();
}

export const importPlaces = (token: string, csv: string) =>
  call<CatalogImportResponse>('/api/catalog/import', {
    method: 'POST',
    headers: { 'content-type': 'text/csv', ...auth(token) },
    body: csv,
  });

export const fetchVisits = () => call<VisitsResponse>('/api/visits');

export const fetchHeadcount = (pollId: string, who?: string) =>
  call<HeadcountResponse>(`/api/polls/${encodeURIComponent(pollId)}/headcount${who ? `?${who}` : ''}`);

/** "I'm in" (or out again), as the voter the query names (`emp_no=` or `token=`). */
export const setHeadcount = (pollId: string, who: string, join: boolean) =>
  call<HeadcountResponse>(`/api/polls/${encodeURIComponent(pollId)}/headcount?${who}`, {
    method: join ? 'POST' : 'DELETE',
  });

export type { CatalogPlace };
