import { describe, expect, it } from 'vitest';
import { localToIso, placesRequest, placesToText, textToPlaces } from './AdminPage.tsx';

describe('admin form helpers', () => {
  it('round-trips the places text, menus included, ignoring blank lines', () => {
    const places = [
      { name: '김밥천국', label_en: 'Kimbap Heaven', menus: [{ name: '라볶이' }, { name: '김밥' }] },
      { name: '본죽', menus: [] },
    ];
    expect(textToPlaces(`${placesToText(places)}\n\n`)).toEqual(places);
  });

  it("sends the catalog's own places by id (every English name kept), an edited list as typed with the menus' English names", () => {
    const catalog = [
      {
        id: 'c1',
        name: '김밥천국',
        label_en: 'Kimbap Heaven',
        menus: [{ name: '참치김밥', label_en: 'Tuna kimbap' }],
      },
      { id: 'c2', name: '본죽', menus: [{ name: '전복죽', label_en: 'Abalone porridge' }] },
      { id: 'c3', name: '명동교자', menus: [] },
    ];
    expect(placesRequest(placesToText(catalog), catalog)).toEqual({ place_ids: ['c1', 'c2', 'c3'] });
    // Reordered or a subset: still the catalog's places.
    expect(placesRequest(placesToText([catalog[2], catalog[0]] as typeof catalog), catalog)).toEqual({
      place_ids: ['c3', 'c1'],
    });
    // A menu added by hand: typed, with the English names the catalog knows.
    const edited = `${placesToText(catalog.slice(0, 1))}, 라면\n새 식당 | | 국수`;
    expect(placesRequest(edited, catalog)).toEqual({
      places: [
        {
          name: '김밥천국',
          label_en: 'Kimbap Heaven',
          menus: [{ name: '참치김밥', label_en: 'Tuna kimbap' }, { name: '라면' }],
        },
        { name: '새 식당', menus: [{ name: '국수' }] },
      ],
    });
  });

  it('turns the local close time into the same instant, and rejects nonsense', () => {
    expect(localToIso('')).toBeNull();
    expect(localToIso('not a date')).toBeNull();
    expect(localToIso('2026-11-25T12:00')).toBe(new Date('2026-11-25T12:00').toISOString());
  });
});
