// The InstallationStore contract: one suite, run against every adapter (installation-store.test.ts: PGlite, Postgres).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Installation, InstallationStore } from '../src/ports/installations.ts';

export interface InstallationStoreFixture {
  store: InstallationStore;
  /** Another store on the same database, with another ENCRYPTION_KEY (or the same one: another process). */
  withKey(encryptionKey: string, previousKeys?: string[]): InstallationStore;
  /** Raw SQL on the same database: what an attacker with a copy of it, or an operator, sees and changes. */
  sql<R = Record<string, unknown>>(text: string, params?: unknown[]): Promise<R[]>;
  close(): Promise<void>;
}

export const CONTRACT_ENCRYPTION_KEY = 'contract-encryption-key-of-32-characters-or-more';

let seq = 0;
const team = () => `T${Date.now().toString(36).toUpperCase()}${(seq++).toString(36).toUpperCase()}`;

const slackInstall = (teamId: string, token: string, extra: Partial<Installation> = {}): Installation => ({
  workspace: `slack:${teamId}`,
  platform: 'slack',
  installedBy: 'U0INSTALLER',
  credentials: {
    team: { id: teamId, name: 'Lunch Club' },
    enterprise: null,
    bot: { token, userId: 'UBOT', scopes: ['commands', 'chat:write'] },
    isEnterpriseInstall: false,
  },
  ...extra,
});

const codeOf = async (p: Promise<unknown>): Promise<unknown> =>
  p.then(
    () => 'resolved',
    (e: { code?: unknown }) => e.code,
  );

export function installationStoreContract(name: string, open: () => Promise<InstallationStoreFixture>) {
  describe(`InstallationStore contract: ${name}`, () => {
    let fx: InstallationStoreFixture;
    let store: InstallationStore;
    beforeAll(async () => {
      fx = await open();
      store = fx.store;
    });
    afterAll(async () => fx?.close());

    it('keeps an installation per workspace and gives back exactly what was saved', async () => {
      const t = team();
      const install = slackInstall(t, 'xoxb-111-aaa');
      await store.saveInstallation(install);
      const got = await store.installation(`slack:${t}`);
      expect(got).toMatchObject({ workspace: `slack:${t}`, platform: 'slack', installedBy: 'U0INSTALLER' });
      expect(got?.credentials).toEqual(install.credentials);
      expect(Date.parse(got?.installedAt ?? '')).toBeGreaterThan(Date.now() - 60_000);
      expect(await store.installation(`slack:${team()}`)).toBeNull();
    });

    it('stores no credential in the clear: the raw row holds neither the token nor any of its fields', async () => {
      const t = team();
      await store.saveInstallation(slackInstall(t, 'xoxb-222-plaintext-must-not-show'));
      const rows = await fx.sql('select * from installations where workspace = $1', [`slack:${t}`]);
      expect(rows).toHaveLength(1);
      const raw = JSON.stringify(rows);
      for (const secret of ['xoxb', 'plaintext-must-not-show', 'token', 'Lunch Club', 'UBOT'])
        expect(raw).not.toContain(secret);
    });

    it('replaces the installation when the workspace installs again (new token), keeping when it first came', async () => {
      const t = team();
      await store.saveInstallation(slackInstall(t, 'xoxb-old'));
      const first = await store.installation(`slack:${t}`);
      await store.saveInstallation(slackInstall(t, 'xoxb-new', { installedBy: 'U0OTHER' }));
      const again = await store.installation(`slack:${t}`);
      expect(again?.credentials).toMatchObject({ bot: { token: 'xoxb-new' } });
      expect(again?.installedBy).toBe('U0OTHER');
      expect(again?.installedAt).toBe(first?.installedAt);
      expect(Date.parse(again?.updatedAt ?? '')).toBeGreaterThanOrEqual(Date.parse(first?.updatedAt ?? ''));
      expect(await fx.sql('select 1 from installations where workspace = $1', [`slack:${t}`])).toHaveLength(
        1,
      );
    });

    it('keeps workspaces apart, an org-wide install included', async () => {
      const [a, b] = [team(), team()];
      await store.saveInstallation(slackInstall(a, 'xoxb-a'));
      await store.saveInstallation(slackInstall(b, 'xoxb-b'));
      await store.saveInstallation({ ...slackInstall('x', 'xoxb-org'), workspace: `slack:E${a}` });
      expect((await store.installation(`slack:${a}`))?.credentials).toMatchObject({
        bot: { token: 'xoxb-a' },
      });
      expect((await store.installation(`slack:${b}`))?.credentials).toMatchObject({
        bot: { token: 'xoxb-b' },
      });
      expect((await store.installation(`slack:E${a}`))?.credentials).toMatchObject({
        bot: { token: 'xoxb-org' },
      });
    });

    it('forgets an installation once: true the first time, false after, and the other workspaces stay', async () => {
      const [a, b] = [team(), team()];
      await store.saveInstallation(slackInstall(a, 'xoxb-a'));
      await store.saveInstallation(slackInstall(b, 'xoxb-b'));
      expect(await store.deleteInstallation(`slack:${a}`)).toBe(true);
      expect(await store.installation(`slack:${a}`)).toBeNull();
      expect(await store.deleteInstallation(`slack:${a}`)).toBe(false);
      expect(await store.installation(`slack:${b}`)).not.toBeNull();
    });

    it('another process with the same ENCRYPTION_KEY reads it; one with another key is refused, not misled', async () => {
      const t = team();
      await store.saveInstallation(slackInstall(t, 'xoxb-shared'));
      const sibling = fx.withKey(CONTRACT_ENCRYPTION_KEY);
      expect((await sibling.installation(`slack:${t}`))?.credentials).toMatchObject({
        bot: { token: 'xoxb-shared' },
      });
      const stranger = fx.withKey('a-different-encryption-key-of-32-characters');
      expect(await codeOf(stranger.installation(`slack:${t}`))).toBe('credentials_other_key');
      await expect(stranger.installation(`slack:${t}`)).rejects.toThrow(/another ENCRYPTION_KEY/);
    });

    it('rotates ENCRYPTION_KEY: opens under a previous key, seals again under the new one as read or all at once', async () => {
      const [a, b, c] = [team(), team(), team()];
      const oldKey = 'the-old-encryption-key-of-32-characters-!';
      const newKey = 'the-new-encryption-key-of-32-characters-!';
      const before = fx.withKey(oldKey);
      await before.saveInstallation(slackInstall(a, 'xoxb-a'));
      await before.saveInstallation(slackInstall(b, 'xoxb-b'));
      await fx.withKey('a-key-nobody-was-given-of-32-characters').saveInstallation(slackInstall(c, 'xoxb-c'));
      const sealed = async (t: string) =>
        (
          await fx.sql<{ credentials: string }>(
            'select credentials from installations where workspace = $1',
            [`slack:${t}`],
          )
        )[0]?.credentials;
      const underOld = await sealed(a);
      // The new key alone cannot open them; with the old one as previous it can, and a read seals that row again.
      expect(await codeOf(fx.withKey(newKey).installation(`slack:${a}`))).toBe('credentials_other_key');
      const rotated = fx.withKey(newKey, [oldKey]);
      expect((await rotated.installation(`slack:${a}`))?.credentials).toMatchObject({
        bot: { token: 'xoxb-a' },
      });
      expect(await sealed(a)).not.toBe(underOld);
      expect((await fx.withKey(newKey).installation(`slack:${a}`))?.credentials).toMatchObject({
        bot: { token: 'xoxb-a' },
      });
      expect(await codeOf(before.installation(`slack:${a}`))).toBe('credentials_other_key');
      // The sweep seals the rest; a row under a key it was not given is named, left as it is.
      const underC = await sealed(c);
      const report = await rotated.resealInstallations();
      expect(report.resealed).toBe(1); // b
      expect(report.unreadable).toContainEqual({ workspace: `slack:${c}`, code: 'credentials_other_key' });
      expect(await sealed(c)).toBe(underC);
      expect((await fx.withKey(newKey).installation(`slack:${b}`))?.credentials).toMatchObject({
        bot: { token: 'xoxb-b' },
      });
      expect((await rotated.resealInstallations()).resealed).toBe(0); // nothing left under the old key
    });

    it('refuses credentials edited in the database, or copied into another workspace’s row', async () => {
      const [a, b, c] = [team(), team(), team()];
      await store.saveInstallation(slackInstall(a, 'xoxb-a'));
      await store.saveInstallation(slackInstall(b, 'xoxb-b'));
      // Someone with write access copies workspace a's sealed token into workspace b's row.
      await fx.sql(
        'update installations set credentials = (select credentials from installations where workspace = $1) where workspace = $2',
        [`slack:${a}`, `slack:${b}`],
      );
      expect(await codeOf(store.installation(`slack:${b}`))).toBe('credentials_tampered');
      // … or flips a character of the ciphertext.
      await store.saveInstallation(slackInstall(c, 'xoxb-c'));
      await fx.sql(
        `update installations set credentials = overlay(credentials placing
           case when substr(credentials, length(credentials) - 2, 1) = 'A' then 'B' else 'A' end
           from length(credentials) - 2 for 1) where workspace = $1`,
        [`slack:${c}`],
      );
      expect(await codeOf(store.installation(`slack:${c}`))).toBe('credentials_tampered');
      // The untouched one still opens.
      expect((await store.installation(`slack:${a}`))?.credentials).toMatchObject({
        bot: { token: 'xoxb-a' },
      });
    });

    it('refuses an installation whose workspace is not its platform’s, and stores nothing', async () => {
      const t = team();
      await expect(
        store.saveInstallation({ ...slackInstall(t, 'xoxb-x'), workspace: `teams:${t}` }),
      ).rejects.toThrow(/not a slack workspace/);
      await expect(
        store.saveInstallation({ ...slackInstall(t, 'xoxb-x'), workspace: 'slack:' }),
      ).rejects.toThrow();
      expect(
        await fx.sql('select 1 from installations where workspace in ($1, $2)', [`teams:${t}`, 'slack:']),
      ).toEqual([]);
    });
  });
}
