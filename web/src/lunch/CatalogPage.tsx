// /admin/places: the workspace's places catalog as a row editor (one row per place, its menus below it), with CSV
// export and import. The admin token is the one the admin page keeps for this tab.
import type { CatalogPlacePatch } from '@livevote/core/protocol';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type ChangeEvent, useState } from 'react';
import {
  addPlace,
  type CatalogPlace,
  exportPlaces,
  importPlaces,
  listPlaces,
  savePlace,
  TOKEN_KEY,
} from './lunch-api.ts';
import { useLunchText } from './text.ts';

const split = (s: string) =>
  s
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x !== '');

interface Draft {
  name: string;
  label_en: string;
  tags: string;
  price: string;
  walk_minutes: string;
  dietary: string;
  url: string;
  active: boolean;
  menus: { id?: string; name: string; label_en: string }[];
}

const draftOf = (p: CatalogPlace): Draft => ({
  name: p.name,
  label_en: p.label_en ?? '',
  tags: p.tags.join(', '),
  price: p.price ? String(p.price) : '',
  walk_minutes: p.walk_minutes === undefined ? '' : String(p.walk_minutes),
  dietary: p.dietary.join(', '),
  url: p.url ?? '',
  active: p.active,
  menus: p.menus.map((m) => ({ id: m.id, name: m.name, label_en: m.label_en ?? '' })),
});

/** Walk minutes as typed: whole minutes 0–180, or empty (cleared); anything else is refused, never cleared. */
export const walkValid = (s: string): boolean =>
  s.trim() === '' || (/^\d{1,3}$/.test(s.trim()) && Number(s) <= 180);

/**
 * A CSV file's text: UTF-8 if it is (a BOM is dropped), else Korean Excel's own encoding (CP949 / EUC-KR), which is
 * how Excel saves "CSV" on a Korean Windows — read as UTF-8 it would import as garbage and report success.
 */
export async function csvText(file: Blob): Promise<string> {
  const bytes = await file.arrayBuffer();
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('euc-kr').decode(bytes);
  }
}

/** A draft as the PATCH body: every field, empty ones cleared. */
export function patchOf(d: Draft): CatalogPlacePatch {
  return {
    name: d.name.trim(),
    label_en: d.label_en.trim() || null,
    tags: split(d.tags),
    price: d.price ? (Number(d.price) as 1 | 2 | 3) : null,
    walk_minutes: d.walk_minutes.trim() === '' ? null : Number(d.walk_minutes),
    dietary: split(d.dietary),
    url: d.url.trim() || null,
    active: d.active,
    menus: d.menus
      .filter((m) => m.name.trim() !== '')
      .map((m) => ({
        ...(m.id ? { id: m.id } : {}),
        name: m.name.trim(),
        ...(m.label_en.trim() ? { label_en: m.label_en.trim() } : {}),
      })),
  };
}

export function CatalogPage() {
  const tx = useLunchText();
  const token = sessionStorage.getItem(TOKEN_KEY) ?? '';
  const client = useQueryClient();
  const places = useQuery({
    queryKey: ['catalog-admin'],
    queryFn: () => listPlaces(token),
    enabled: token !== '',
  });
  const [note, setNote] = useState('');
  // Bumped after an import: every row starts again from what the server now holds (a row keeps its own draft, and
  // saving a stale one would undo the import).
  const [generation, setGeneration] = useState(0);
  const add = useMutation({
    mutationFn: () => addPlace(token, { name: tx('newPlace', { n: (places.data?.places.length ?? 0) + 1 }) }),
    onSuccess: () => client.invalidateQueries({ queryKey: ['catalog-admin'] }),
    onError: (e: Error) => setNote(e.message),
  });
  const onImport = async (e: ChangeEvent<HTMLInputElement>) => {
    const file = e.target.files?.[0];
    if (!file) return;
    try {
      const r = await importPlaces(token, await csvText(file));
      await client.invalidateQueries({ queryKey: ['catalog-admin'] });
      setGeneration((g) => g + 1);
      setNote(`${tx('imported', { created: r.created, updated: r.updated })} ${tx('rowsReloaded')}`);
    } catch (err) {
      setNote((err as Error).message);
    }
    e.target.value = '';
  };
  const onExport = async () => {
    try {
      const blob = await exportPlaces(token);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = 'livevote-places.csv';
      a.click();
      URL.revokeObjectURL(a.href);
    } catch (err) {
      setNote((err as Error).message);
    }
  };
  return (
    <main className="page admin">
      <header className="admin-head">
        <h1>{tx('places')}</h1>
        <a href="/admin">{tx('back')}</a>
      </header>
      {token === '' && <p role="alert">{tx('tokenNeeded')}</p>}
      <p>{tx('listHint')}</p>
      <div className="row actions">
        <button type="button" onClick={() => add.mutate()} disabled={add.isPending}>
          {tx('addPlace')}
        </button>
        <button type="button" onClick={() => void onExport()}>
          {tx('exportCsv')}
        </button>
        <label className="button">
          {tx('importCsv')}{' '}
          <input
            type="file"
            accept=".csv,text/csv"
            onChange={(e) => void onImport(e)}
            aria-label={tx('importCsv')}
          />
        </label>
      </div>
      <p role="status" aria-live="polite">
        {note}
      </p>
      {places.error && <p role="alert">{(places.error as Error).message}</p>}
      {(places.data?.places ?? []).map((p) => (
        <PlaceRow key={`${p.id}:${generation}`} place={p} token={token} />
      ))}
    </main>
  );
}

function PlaceRow({ place, token }: { place: CatalogPlace; token: string }) {
  const tx = useLunchText();
  const client = useQueryClient();
  const [d, setD] = useState<Draft>(() => draftOf(place));
  const [status, setStatus] = useState('');
  const set = <K extends keyof Draft>(k: K, v: Draft[K]) => {
    setD((x) => ({ ...x, [k]: v }));
    setStatus('');
  };
  const save = useMutation({
    mutationFn: () => savePlace(token, place.id, patchOf(d)),
    onSuccess: (r) => {
      setD(draftOf(r.place));
      setStatus(tx('saved'));
      void client.invalidateQueries({ queryKey: ['catalog-admin'] });
    },
    onError: (e: Error) => setStatus(e.message),
  });
  const field = (k: 'name' | 'label_en' | 'tags' | 'walk_minutes' | 'dietary' | 'url', label: string) => (
    <label>
      {label}
      <input value={d[k]} onChange={(e) => set(k, e.target.value)} />
    </label>
  );
  return (
    <section className="card place-row" data-place={place.id} aria-label={place.name}>
      <div className="row">
        {field('name', tx('name'))}
        {field('label_en', tx('nameEn'))}
        {field('tags', tx('tags'))}
        <label>
          {tx('price')}
          <select value={d.price} onChange={(e) => set('price', e.target.value)}>
            <option value="">—</option>
            <option value="1">₩</option>
            <option value="2">₩₩</option>
            <option value="3">₩₩₩</option>
          </select>
        </label>
        {field('walk_minutes', tx('walk'))}
        {field('dietary', tx('dietary'))}
        {field('url', tx('url'))}
        <label>
          <input type="checkbox" checked={d.active} onChange={(e) => set('active', e.target.checked)} />{' '}
          {tx('active')}
        </label>
      </div>
      <fieldset>
        <legend>{tx('menus')}</legend>
        {d.menus.map((m, i) => (
          <div className="row" key={m.id ?? `new-${i}`}>
            <input
              aria-label={`${tx('menus')} ${i + 1} ${tx('name')}`}
              value={m.name}
              onChange={(e) =>
                set(
                  'menus',
                  d.menus.map((x, j) => (j === i ? { ...x, name: e.target.value } : x)),
                )
              }
            />
            <input
              aria-label={`${tx('menus')} ${i + 1} ${tx('nameEn')}`}
              value={m.label_en}
              onChange={(e) =>
                set(
                  'menus',
                  d.menus.map((x, j) => (j === i ? { ...x, label_en: e.target.value } : x)),
                )
              }
            />
            <button
              type="button"
              className="link"
              onClick={() =>
                set(
                  'menus',
                  d.menus.filter((_, j) => j !== i),
                )
              }
            >
              {tx('remove')}
            </button>
          </div>
        ))}
        <button
          type="button"
          className="link"
          onClick={() => set('menus', [...d.menus, { name: '', label_en: '' }])}
        >
          {tx('addMenu')}
        </button>
      </fieldset>
      <div className="row actions">
        <button
          type="button"
          onClick={() => (walkValid(d.walk_minutes) ? save.mutate() : setStatus(tx('walkInvalid')))}
          disabled={save.isPending}
        >
          {tx('save')}
        </button>
        <span role="status">{status}</span>
      </div>
    </section>
  );
}
