import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { anonymityKey } from './adapters.ts';
import { parseConfig } from './config.ts';

describe('the anonymity key', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it('is made once in the embedded mode and kept in DATA_DIR for the owner only', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lv-anon-key-'));
    dirs.push(dir);
    const config = parseConfig({ DATA_DIR: dir });
    const first = await anonymityKey(config);
    expect(first.length).toBeGreaterThanOrEqual(32);
    expect(await anonymityKey(config)).toBe(first);
    const file = join(dir, 'anonymity-key');
    expect((await readFile(file, 'utf8')).trim()).toBe(first);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('is ANONYMITY_KEY when set, and nothing is written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'lv-anon-key-'));
    dirs.push(dir);
    const key = 'k'.repeat(40);
    expect(await anonymityKey(parseConfig({ DATA_DIR: dir, ANONYMITY_KEY: key }))).toBe(key);
    await expect(stat(join(dir, 'anonymity-key'))).rejects.toThrow();
  });
});
