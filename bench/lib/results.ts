// Writes one benchmark's dated section into bench/RESULTS.md, replacing an older section of the same name.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';

const FILE = new URL('../RESULTS.md', import.meta.url);

export function machine(extra = ''): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpu}, ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GiB, Node ${process.version}${extra ? `, ${extra}` : ''}`;
}

export function writeSection(name: string, body: string): void {
  const head =
    '# Benchmark results\n\nEach section is written by its benchmark (`npm run bench:<name>`); figures are from one run on a shared, noisy machine, so compare the ratios within a section, not absolute times across sections.\n';
  let text = existsSync(FILE) ? readFileSync(FILE, 'utf8') : head;
  const title = `## ${name}`;
  const start = text.indexOf(title);
  if (start >= 0) {
    const next = text.indexOf('\n## ', start + title.length);
    text = text.slice(0, start) + (next >= 0 ? text.slice(next + 1) : '');
  }
  writeFileSync(FILE, `${text.trimEnd()}\n\n${title}\n\n${body.trim()}\n`);
  // Aligned tables, as the linter wants the committed file.
  spawnSync('npx', ['--no-install', 'biome', 'format', '--write', fileURLToPath(FILE)], { stdio: 'ignore' });
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}

export const median = (xs: number[]) =>
  percentile(
    [...xs].sort((a, b) => a - b),
    50,
  );
