// The catalog as CSV, for spreadsheets: one place per row, `id,name,label_en,tags,price,walk_minutes,dietary,url,
// active,menus`. Lists are separated by ";" and a menu with an English name is written "name = English name".
// Export then import changes nothing; a row without id is a new place, a row with one updates that place.
import type { CatalogPlace } from '../../protocol/index.ts';
import { fail, ok, type Result } from '../result.ts';

export const CATALOG_CSV_COLUMNS = [
  'id',
  'name',
  'label_en',
  'tags',
  'price',
  'walk_minutes',
  'dietary',
  'url',
  'active',
  'menus',
] as const;

export const MAX_CATALOG_ROWS = 500;

/** RFC 4180 records: quoted cells may hold commas, quotes ("") and line breaks. */
export function parseCsv(text: string): string[][] | null {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  const src = text.replace(/^\ufeff/, '');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (quoted) {
      if (c === '"' && src[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n' || c === '\r') {
      if (c === '\r' && src[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (quoted) return null;
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows.filter((r) => r.some((x) => x.trim() !== ''));
}

function cellOf(value: string): string {
  // A cell that a spreadsheet would run as a formula gets a leading apostrophe; the import takes it off again.
  const s = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\n\r';]/.test(s) || s !== s.trim() ? `"${s.replace(/"/g, '""')}"` : s;
}
const uncell = (value: string): string => value.replace(/^'(?=[=+\-@\t\r])/, '').trim();

export function formatCatalogCsv(places: readonly CatalogPlace[]): string {
  const line = (cells: string[]) => `${cells.map(cellOf).join(',')}\r\n`;
  let csv = line([...CATALOG_CSV_COLUMNS]);
  for (const p of places)
    csv += line([
      p.id,
      p.name,
      p.label_en ?? '',
      p.tags.join('; '),
      p.price ? String(p.price) : '',
      p.walk_minutes === undefined ? '' : String(p.walk_minutes),
      p.dietary.join('; '),
      p.url ?? '',
      p.active ? 'true' : 'false',
      p.menus.map((m) => (m.label_en ? `${m.name} = ${m.label_en}` : m.name)).join('; '),
    ]);
  return `\ufeff${csv}`;
}

/** One CSV row as the fields of a place (not yet validated: the use case checks it with the protocol's schema). */
export interface CatalogCsvRow {
  line: number;
  id?: string;
  fields: Record<string, unknown>;
}

const list = (s: string) =>
  s
    .split(';')
    .map((x) => x.trim())
    .filter((x) => x !== '');

export function parseCatalogCsv(text: string): Result<CatalogCsvRow[], 'invalid_csv'> {
  const records = parseCsv(text);
  if (!records) return fail('invalid_csv', 'A quoted cell is never closed.');
  const [header, ...rows] = records;
  if (!header) return fail('invalid_csv', 'The CSV has no rows.');
  const names = header.map((h) => uncell(h).toLowerCase());
  const unknown = names.find((n) => !(CATALOG_CSV_COLUMNS as readonly string[]).includes(n));
  if (unknown !== undefined || !names.includes('name'))
    return fail(
      'invalid_csv',
      `The first line must name the columns (name is required) out of: ${CATALOG_CSV_COLUMNS.join(', ')}${unknown === undefined ? '' : `; "${unknown}" is not one`}.`,
    );
  if (rows.length === 0) return fail('invalid_csv', 'The CSV has no places.');
  if (rows.length > MAX_CATALOG_ROWS)
    return fail('invalid_csv', `At most ${MAX_CATALOG_ROWS} places per import.`);
  const out: CatalogCsvRow[] = [];
  for (const [i, r] of rows.entries()) {
    const line = i + 2;
    if (r.length > names.length) return fail('invalid_csv', `Line ${line}: more cells than columns.`);
    const get = (col: string) => {
      const at = names.indexOf(col);
      return at < 0 ? undefined : uncell(r[at] ?? '');
    };
    const fields: Record<string, unknown> = {};
    const text = (col: string) => {
      const v = get(col);
      if (v) fields[col] = v;
    };
    text('name');
    text('label_en');
    text('url');
    for (const col of ['tags', 'dietary']) {
      const v = get(col);
      if (v !== undefined) fields[col] = list(v);
    }
    for (const col of ['price', 'walk_minutes']) {
      const v = get(col);
      if (v) fields[col] = /^\d+$/.test(v) ? Number(v) : v;
    }
    const active = get('active')?.toLowerCase();
    if (active) {
      if (!['true', 'false', 'yes', 'no', '1', '0'].includes(active))
        return fail('invalid_csv', `Line ${line}: active must be true or false.`);
      fields.active = ['true', 'yes', '1'].includes(active);
    }
    const menus = get('menus');
    if (menus !== undefined)
      fields.menus = list(menus).map((m) => {
        const [name = '', en] = m.split(/\s+=\s+/, 2);
        return en ? { name: name.trim(), label_en: en.trim() } : { name: name.trim() };
      });
    const id = get('id');
    out.push({ line, ...(id ? { id } : {}), fields });
  }
  return ok(out);
}
