import { describe, expect, it } from 'vitest';
import type { CatalogPlace } from '../../protocol/index.ts';
import { pickPlaces } from './places-rule.ts';

const place = (id: string): CatalogPlace => ({
  id,
  name: id,
  tags: [],
  dietary: [],
  active: true,
  menus: [],
});
const catalog = ['a', 'b', 'c', 'd', 'e'].map(place);
const ids = (ps: CatalogPlace[]) => ps.map((p) => p.id);

describe('pickPlaces', () => {
  it('takes every active place for the "all" rule', () => {
    expect(ids(pickPlaces(catalog, { rule: 'all' }, new Map(), '2026-12-02'))).toEqual([
      'a',
      'b',
      'c',
      'd',
      'e',
    ]);
  });

  it('leaves out places visited in the last D days', () => {
    const visits = new Map([
      ['a', '2026-12-01'],
      ['b', '2026-11-20'],
    ]);
    expect(ids(pickPlaces(catalog, { rule: 'all', exclude_visited_days: 7 }, visits, '2026-12-02'))).toEqual([
      'b',
      'c',
      'd',
      'e',
    ]);
  });

  it('counts yesterday as the last 1 day, and the same weekday a week ago as within the last 7', () => {
    const visits = new Map([
      ['a', '2026-12-01'], // yesterday
      ['b', '2026-11-30'],
      ['c', '2026-11-25'], // a week ago, the same weekday
      ['d', '2026-11-24'],
    ]);
    const left = (days: number) =>
      ids(pickPlaces(catalog, { rule: 'all', exclude_visited_days: days }, visits, '2026-12-02'));
    expect(left(1)).toEqual(['b', 'c', 'd', 'e']);
    expect(left(7)).toEqual(['d', 'e']);
  });

  it('never leaves fewer than two places: the ones visited longest ago come back', () => {
    const visits = new Map([
      ['a', '2026-12-01'],
      ['b', '2026-11-30'],
      ['c', '2026-11-29'],
    ]);
    const three = catalog.slice(0, 3);
    expect(ids(pickPlaces(three, { rule: 'all', exclude_visited_days: 7 }, visits, '2026-12-02'))).toEqual([
      'b',
      'c',
    ]);
  });

  it('takes a random N, in catalog order', () => {
    let seed = 0.9;
    const random = () => {
      seed = (seed * 7.31) % 1;
      return seed;
    };
    const picked = ids(pickPlaces(catalog, { rule: 'random', count: 3 }, new Map(), '2026-12-02', random));
    expect(picked).toHaveLength(3);
    expect(picked).toEqual([...picked].sort());
  });
});
