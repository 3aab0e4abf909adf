import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import {
  TEAMS_MANIFEST_VERSION,
  teamsManifest,
  teamsPackage,
  validateTeamsManifest,
  zip,
} from './app-package.ts';

/** Reads a stored zip back (what the Teams uploader does), via its central directory. */
function unzip(buf: Buffer): Map<string, Buffer> {
  const end = buf.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  const count = buf.readUInt16LE(end + 10);
  let p = buf.readUInt32LE(end + 16);
  const out = new Map<string, Buffer>();
  for (let i = 0; i < count; i++) {
    const method = buf.readUInt16LE(p + 10);
    const size = buf.readUInt32LE(p + 20);
    const nameLen = buf.readUInt16LE(p + 28);
    const offset = buf.readUInt32LE(p + 42);
    const name = buf.subarray(p + 46, p + 46 + nameLen).toString();
    const start = offset + 30 + buf.readUInt16LE(offset + 26) + buf.readUInt16LE(offset + 28);
    const data = buf.subarray(start, start + size);
    out.set(name, method === 0 ? data : inflateRawSync(data));
    p += 46 + nameLen;
  }
  return out;
}
const pngSize = (b: Buffer) => [b.readUInt32BE(16), b.readUInt32BE(20)];
const ID = '11111111-2222-3333-4444-555555555555';

describe('the Teams app package', () => {
  it('holds a manifest that validates against the schema of its version, and both icons at their sizes', () => {
    const files = unzip(teamsPackage(ID, 'https://lunch.example.com:8443/'));
    expect([...files.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const m = JSON.parse(String(files.get('manifest.json')));
    expect(validateTeamsManifest(m)).toEqual([]);
    expect(m.manifestVersion).toBe(TEAMS_MANIFEST_VERSION);
    expect(m.$schema).toContain(`/v${TEAMS_MANIFEST_VERSION}/`);
    expect(m.id).toBe(ID);
    expect(m.bots[0].botId).toBe(ID);
    expect(m.bots[0].supportsTargetedMessages).toBe(true);
    expect(m.validDomains).toEqual(['lunch.example.com']);
    expect(m.developer.privacyUrl).toBe('https://lunch.example.com:8443/teams/privacy');
    expect(m.configurableTabs[0].configurationUrl).toBe('https://lunch.example.com:8443/teams/tab/config');
    expect(m.configurableTabs[0].context).toContain('meetingSidePanel');
    expect(m.webApplicationInfo).toEqual({ id: ID, resource: `api://lunch.example.com/${ID}` });
    expect(pngSize(files.get('color.png') as Buffer)).toEqual([192, 192]);
    expect(pngSize(files.get('outline.png') as Buffer)).toEqual([32, 32]);
    expect(JSON.stringify(m)).not.toContain('{{');
  });

  it('takes the privacy and terms URLs it is given', () => {
    const m = JSON.parse(
      teamsManifest(ID, 'https://h.test', {
        privacyUrl: 'https://corp.test/privacy',
        termsUrl: 'https://corp.test/terms',
      }),
    );
    expect([m.developer.privacyUrl, m.developer.termsOfUseUrl]).toEqual([
      'https://corp.test/privacy',
      'https://corp.test/terms',
    ]);
  });

  it('refuses to package a manifest the schema rejects, naming the problem', () => {
    const m = JSON.parse(teamsManifest(ID, 'https://h.test'));
    m.bots[0].scopes = ['everyone'];
    delete m.developer.name;
    const problems = validateTeamsManifest(m);
    expect(problems).toContainEqual(expect.stringContaining('/bots/0/scopes/0'));
    expect(problems).toContainEqual(expect.stringContaining("required property 'name'"));
    expect(() => teamsPackage('not-a-guid', 'https://h.test')).toThrow(/does not validate/);
  });

  it('writes a zip whose entries read back byte for byte', () => {
    const data = Buffer.from('가나다 livevote');
    expect(unzip(zip([{ name: 'a.txt', data }])).get('a.txt')).toEqual(data);
    expect(readFileSync(new URL('../../../manifests/teams/outline.png', import.meta.url))[25]).toBe(6); // RGBA: transparent background
  });
});
