import { describe, expect, it } from 'vitest';
import { localToIso, placesToText, textToPlaces } from './AdminPage.tsx';

describe('admin form helpers', () => {
  it('round-trips the places text, menus included, ignoring blank lines', () => {
    const places = [
      { name: '김밥천국', label_en: 'Kimbap Heaven', menus: [{ name: '라볶이' }, { name: '김밥' }] },
      { name: '본죽', menus: [] },
    ];
    expect(textToPlaces(`${placesToText(places)}\n\n`)).toEqual(places);
  });

  it('turns the local close time into the same instant, and rejects nonsense', () => {
    expect(localToIso('')).toBeNull();
    expect(localToIso('not a date')).toBeNull();
    expect(localToIso('2026-11-25T12:00')).toBe(new Date('2026-11-25T12:00').toISOString());
  });
});
