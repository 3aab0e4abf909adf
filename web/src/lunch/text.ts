// The lunch pages' words in Korean and English (kept beside the pages that use them).
import { useI18n } from '../i18n/i18n.tsx';
import './lunch.css';

const en = {
  places: 'Places',
  history: 'Lunch history',
  name: 'Name',
  nameEn: 'English name',
  tags: 'Cuisine tags',
  price: 'Price',
  walk: 'Walk (min)',
  dietary: 'Dietary',
  url: 'Menu or map URL',
  active: 'Active',
  menus: 'Menus',
  addMenu: 'Add menu',
  remove: 'Remove',
  save: 'Save',
  saved: 'Saved',
  addPlace: 'Add a place',
  exportCsv: 'Export CSV',
  importCsv: 'Import CSV',
  imported: '{created} added, {updated} updated',
  tokenNeeded: 'Open the admin page with its link first (the admin token is needed).',
  listHint:
    'Separate tags with commas. Deactivated places stay in the history but are left out of new polls.',
  date: 'Date',
  place: 'Place',
  votes: 'Votes',
  wins: 'Wins',
  lastVisit: 'Last visit',
  daysSince: 'Days since',
  never: 'never',
  noVisits: 'No decided lunch polls yet.',
  inCount: '{n} in',
  imIn: 'I’m in',
  imOut: 'I’m out after all',
  back: 'Admin',
  walkInvalid: 'Walk (min) takes whole minutes, 0 to 180 (e.g. 5).',
  newPlace: 'New place {n}',
  rowsReloaded: 'The rows now show the imported values.',
} as const;

const ko: Record<keyof typeof en, string> = {
  places: '식당 목록',
  history: '점심 기록',
  name: '이름',
  nameEn: '영어 이름',
  tags: '음식 종류',
  price: '가격',
  walk: '도보(분)',
  dietary: '식단',
  url: '메뉴·지도 URL',
  active: '사용',
  menus: '메뉴',
  addMenu: '메뉴 추가',
  remove: '삭제',
  save: '저장',
  saved: '저장됨',
  addPlace: '식당 추가',
  exportCsv: 'CSV 내보내기',
  importCsv: 'CSV 가져오기',
  imported: '{created}개 추가, {updated}개 수정',
  tokenNeeded: '관리자 링크로 관리 페이지를 먼저 여세요 (관리자 토큰이 필요합니다).',
  listHint: '태그는 쉼표로 구분합니다. 사용하지 않는 식당은 기록에는 남지만 새 투표에서 빠집니다.',
  date: '날짜',
  place: '식당',
  votes: '표',
  wins: '선택 횟수',
  lastVisit: '마지막 방문',
  daysSince: '지난 일수',
  never: '없음',
  noVisits: '아직 결정된 점심 투표가 없습니다.',
  inCount: '{n}명 참여',
  imIn: '저도 갈게요',
  imOut: '빠질게요',
  back: '관리',
  walkInvalid: '도보(분)는 0~180 사이의 분 단위 숫자로 적어 주세요 (예: 5).',
  newPlace: '새 식당 {n}',
  rowsReloaded: '가져온 값으로 목록을 새로 불러왔습니다.',
};

export type LunchKey = keyof typeof en;

export function useLunchText(): (key: LunchKey, vars?: Record<string, string | number>) => string {
  const { lang } = useI18n();
  const table = lang === 'ko' ? ko : en;
  return (key, vars = {}) => table[key].replace(/\{(\w+)\}/g, (_, k: string) => String(vars[k] ?? ''));
}
