import { describe, expect, it } from 'vitest';
import { mayEditLunch } from './lunch-editors.ts';

describe('mayEditLunch', () => {
  it('lets everyone edit under `everyone`, without asking the platform', async () => {
    let asked = 0;
    const isAdmin = async () => {
      asked++;
      return false;
    };
    expect(await mayEditLunch('everyone', isAdmin)).toBe(true);
    expect(asked).toBe(0);
  });

  it('lets only admins edit under `admins`', async () => {
    expect(await mayEditLunch('admins', async () => true)).toBe(true);
    expect(await mayEditLunch('admins', async () => false)).toBe(false);
  });
});
