// Builds the Teams app package (manifest.json + the two icons) as a zip, filling in the bot id and public URL.
import { readFileSync } from 'node:fs';
import { crc32 } from 'node:zlib';

const DIR = new URL('../../../manifests/teams/', import.meta.url);

export function teamsManifest(clientId: string, publicUrl: string): string {
  const host = new URL(publicUrl).host;
  return readFileSync(new URL('manifest.json', DIR), 'utf8')
    .replaceAll('{{TEAMS_CLIENT_ID}}', clientId)
    .replaceAll('{{PUBLIC_URL}}', publicUrl.replace(/\/+$/, ''))
    .replaceAll('{{PUBLIC_HOST}}', host);
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

export function teamsPackage(clientId: string, publicUrl: string): Buffer {
  return zip([
    { name: 'manifest.json', data: Buffer.from(teamsManifest(clientId, publicUrl)) },
    { name: 'color.png', data: readFileSync(new URL('color.png', DIR)) },
    { name: 'outline.png', data: readFileSync(new URL('outline.png', DIR)) },
  ]);
}
