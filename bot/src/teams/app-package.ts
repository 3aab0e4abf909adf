// Builds the Teams app package (manifest.json + the two icons) as a zip, filling in the bot id and public URL, and
// checks the manifest against Microsoft's schema for its version (kept in the repository, so this works offline).
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';
import ajvDraft04 from 'ajv-draft-04';
import ajvFormats from 'ajv-formats';

const DIR = new URL('../../../manifests/teams/', import.meta.url);
/** The schema of the manifest version manifests/teams/manifest.json declares. */
export const TEAMS_MANIFEST_VERSION = '1.30';
export const TEAMS_MANIFEST_SCHEMA = new URL(
  `schema/MicrosoftTeams.v${TEAMS_MANIFEST_VERSION}.schema.json`,
  DIR,
);

export interface ManifestOptions {
  /** The app's privacy statement; default: the one this server serves at PUBLIC_URL/teams/privacy. */
  privacyUrl?: string;
  /** The app's terms of use; default: PUBLIC_URL/teams/terms. */
  termsUrl?: string;
}

export function teamsManifest(clientId: string, publicUrl: string, o: ManifestOptions = {}): string {
  const base = publicUrl.replace(/\/+$/, '');
  // Teams wants bare host names in validDomains (no scheme, no port).
  const host = new URL(publicUrl).hostname;
  return readFileSync(new URL('manifest.json', DIR), 'utf8')
    .replaceAll('{{TEAMS_CLIENT_ID}}', clientId)
    .replaceAll('{{PRIVACY_URL}}', o.privacyUrl ?? `${base}/teams/privacy`)
    .replaceAll('{{TERMS_URL}}', o.termsUrl ?? `${base}/teams/terms`)
    .replaceAll('{{PUBLIC_URL}}', base)
    .replaceAll('{{PUBLIC_HOST}}', host);
}

let validator: ((m: unknown) => boolean) & { errors?: { instancePath: string; message?: string }[] | null };

/** What is wrong with a manifest by Microsoft's schema: one line per problem, empty when it validates. */
export function validateTeamsManifest(manifest: unknown): string[] {
  if (!validator) {
    // CommonJS packages: Node's ESM import gives their module.exports, whose `default` is the export.
    const ajv = new ajvDraft04.default({ allErrors: true, strictTypes: false, strict: false });
    ajvFormats.default(ajv, ['uri', 'email', 'regex']);
    validator = ajv.compile(JSON.parse(readFileSync(TEAMS_MANIFEST_SCHEMA, 'utf8')));
  }
  if (validator(manifest)) return [];
  return (validator.errors ?? []).map(
    (e) => `${e.instancePath || '(manifest)'} ${e.message ?? 'is not valid'}`,
  );
}

/** A zip of stored (uncompressed) entries: all the Teams uploader needs, with no dependency. */
export function zip(files: { name: string; data: Buffer }[]): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const f of files) {
    const name = Buffer.from(f.name);
    const crc = crc32(f.data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed
    local.writeUInt16LE(0x0800, 6); // UTF-8 names
    local.writeUInt16LE(0, 8); // stored
    local.writeUInt32LE(0x00210000, 10); // 1980-01-01 00:00, so builds are reproducible
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(f.data.length, 18);
    local.writeUInt32LE(f.data.length, 22);
    local.writeUInt16LE(name.length, 26);
    locals.push(local, name, f.data);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt32LE(0x00210000, 12);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(f.data.length, 20);
    central.writeUInt32LE(f.data.length, 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, name);
    offset += 30 + name.length + f.data.length;
  }
  const dir = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(files.length, 8);
  end.writeUInt16LE(files.length, 10);
  end.writeUInt32LE(dir.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, dir, end]);
}

/** The app package; throws, listing the problems, when the manifest does not validate against its schema. */
export function teamsPackage(clientId: string, publicUrl: string, o: ManifestOptions = {}): Buffer {
  const manifest = teamsManifest(clientId, publicUrl, o);
  const problems = validateTeamsManifest(JSON.parse(manifest));
  if (problems.length > 0)
    throw new Error(`the Teams manifest does not validate:\n  ${problems.join('\n  ')}`);
  return zip([
    { name: 'manifest.json', data: Buffer.from(manifest) },
    { name: 'color.png', data: readFileSync(new URL('color.png', DIR)) },
    { name: 'outline.png', data: readFileSync(new URL('outline.png', DIR)) },
  ]);
}
