import { describe, expect, it } from 'vitest';
import type { CatalogPlace } from '../../protocol/index.ts';
import { formatCatalogCsv, parseCatalogCsv } from './catalog-csv.ts';

const place: CatalogPlace = {
  id: 'abc123',
  name: '김밥천국',
  label_en: 'Kimbap Heaven, "the" place',
  tags: ['korean', 'quick'],
  price: 1,
  walk_minutes: 4,
  dietary: ['vegetarian'],
  url: 'https://map.example/kimbap',
  active: false,
  menus: [
    { id: 'm1', name: '참치김밥', label_en: 'Tuna kimbap' },
    { id: 'm2', name: '-라볶이' },
  ],
};

describe('catalog CSV', () => {
  it('reads back what it wrote', () => {
    const csv = formatCatalogCsv([place]);
    const rows = parseCatalogCsv(csv);
    if (!rows.ok) throw new Error(rows.message);
    expect(rows.value).toEqual([
      {
        line: 2,
        id: 'abc123',
        fields: {
          name: '김밥천국',
          label_en: 'Kimbap Heaven, "the" place',
          url: 'https://map.example/kimbap',
          tags: ['korean', 'quick'],
          dietary: ['vegetarian'],
          price: 1,
          walk_minutes: 4,
          active: false,
          menus: [{ name: '참치김밥', label_en: 'Tuna kimbap' }, { name: '-라볶이' }],
        },
      },
    ]);
    // A cell a spreadsheet would run as a formula is defused on the way out and restored on the way in.
    const formula = formatCatalogCsv([{ ...place, name: '=HYPERLINK("x")' }]);
    expect(formula).toContain(`"'=HYPERLINK(""x"")"`);
    const back = parseCatalogCsv(formula);
    expect(back.ok && back.value[0]?.fields.name).toBe('=HYPERLINK("x")');
  });

  it('refuses unknown columns, a missing name column and bad active values, naming the line', () => {
    expect(parseCatalogCsv('name,colour\nA,red\n')).toMatchObject({ ok: false, reason: 'invalid_csv' });
    expect(parseCatalogCsv('label_en\nA\n')).toMatchObject({ ok: false });
    const bad = parseCatalogCsv('name,active\nA,true\nB,maybe\n');
    expect(bad).toMatchObject({ ok: false, message: 'Line 3: active must be true or false.' });
    expect(parseCatalogCsv('name\n"unclosed\n')).toMatchObject({ ok: false });
  });
});
