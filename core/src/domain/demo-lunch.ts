// The seeded demo: a lunch poll near a Seoul office, Korean names with English labels.
import type { PlaceInput } from '../protocol/index.ts';

export const DEMO_POLL_ID = 'lunch-demo';

export const DEMO_PLACES: PlaceInput[] = [
  {
    name: '김밥천국',
    label_en: 'Kimbap Heaven',
    menus: [
      { name: '참치김밥', label_en: 'Tuna kimbap' },
      { name: '라볶이', label_en: 'Ramen tteokbokki' },
      { name: '돈까스', label_en: 'Pork cutlet' },
    ],
  },
  {
    name: '명동교자',
    label_en: 'Myeongdong Kyoja',
    menus: [
      { name: '칼국수', label_en: 'Knife-cut noodles' },
      { name: '만두', label_en: 'Dumplings' },
    ],
  },
  {
    name: '본죽',
    label_en: 'Bonjuk',
    menus: [
      { name: '전복죽', label_en: 'Abalone porridge' },
      { name: '야채죽', label_en: 'Vegetable porridge' },
    ],
  },
  {
    name: '을지면옥',
    label_en: 'Euljimyeonok',
    menus: [
      { name: '물냉면', label_en: 'Cold buckwheat noodles' },
      { name: '비빔냉면', label_en: 'Spicy cold noodles' },
      { name: '수육', label_en: 'Boiled pork slices' },
    ],
  },
  {
    name: '한솥도시락',
    label_en: 'Hansot Lunchbox',
    menus: [
      { name: '치킨마요', label_en: 'Chicken mayo bowl' },
      { name: '제육볶음', label_en: 'Spicy pork stir-fry' },
    ],
  },
];
