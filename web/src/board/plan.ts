// How the board lays out a question's options on whatever screen it is on. Every size is in stage units
// (u = 1 % of a 16:9 stage's width: 19.2 px at 1920×1080, 12.8 px at 1280×720, 38.4 px at 3840×2160), so
// a layout chosen here looks the same on every TV. The row heights below are the CSS rows' heights.

export type Density = 'xl' | 'l' | 'm';

/** Height of one option's row (name line, optional English line, bar, gap), in u. */
export const ROW_U: Record<Density, { plain: number; en: number }> = {
  xl: { plain: 6.4, en: 8.6 },
  l: { plain: 5.2, en: 7.2 },
  m: { plain: 4.2, en: 5.6 },
};

export interface BarsPlan {
  density: Density;
  columns: 1 | 2;
  /** Rows per column. */
  rows: number;
  /** How many options get a row; the rest are summed up in a "+N more" row. */
  shown: number;
  more: boolean;
}

/**
 * The largest type that shows every option in `availU` of height: one column in three sizes, then two columns,
 * then two columns of the smallest rows with the last slot saying "+N more".
 */
export function planBars(count: number, hasEnglish: boolean, availU: number): BarsPlan {
  const height = (d: Density) => ROW_U[d][hasEnglish ? 'en' : 'plain'];
  const n = Math.max(1, count);
  for (const density of ['xl', 'l', 'm'] as const) {
    if (n <= 6 && n * height(density) <= availU)
      return { density, columns: 1, rows: n, shown: count, more: false };
  }
  for (const density of ['l', 'm'] as const) {
    const rows = Math.ceil(n / 2);
    if (rows * height(density) <= availU) return { density, columns: 2, rows, shown: count, more: false };
  }
  const rows = Math.max(1, Math.floor(availU / height('m')));
  const slots = rows * 2;
  if (count <= slots) return { density: 'm', columns: 2, rows, shown: count, more: false };
  return { density: 'm', columns: 2, rows, shown: slots - 1, more: true };
}

/**
 * Which options get a row when not all fit: the most voted (the leader always among them), kept in their poll
 * order so rows do not trade places on every vote.
 */
export function pickShown<T extends { vote_count: number }>(options: readonly T[], shown: number): T[] {
  if (options.length <= shown) return [...options];
  const keep = new Set(
    options
      .map((o, i) => ({ o, i }))
      .sort((a, b) => b.o.vote_count - a.o.vote_count || a.i - b.i)
      .slice(0, Math.max(0, shown))
      .map((x) => x.i),
  );
  return options.filter((_, i) => keep.has(i));
}

/** The stage unit in px for a viewport: the CSS `--u: min(1vw, 1.7778vh)`. */
export function stageUnit(width: number, height: number): number {
  return Math.min(width / 100, (height * 16) / 9 / 100);
}
