// Reads a V8 heap snapshot (.heapsnapshot, as --heapsnapshot-signal writes it) and counts its objects by
// constructor: how many and how many bytes (self size). Two censuses subtracted and divided by the connections
// added between them say what each connection keeps on the JS heap, object by object.
import { readFileSync } from 'node:fs';

export interface Census {
  /** Every node's self size summed (bytes): the live JS heap as the snapshot saw it, after its full GC. */
  total: number;
  /** "type:name" → count and bytes. */
  byKind: Map<string, { count: number; bytes: number }>;
}

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

export function census(file: string): Census {
  const s = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const iType = fields.indexOf('type');
  const iName = fields.indexOf('name');
  const iSize = fields.indexOf('self_size');
  const byKind = new Map<string, { count: number; bytes: number }>();
  let total = 0;
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + iType] as number] as string;
    // Strings and code are named by their content: one bucket per type is enough.
    const named = type === 'object' || type === 'closure' || type === 'native' || type === 'hidden';
    const key = named ? `${type}:${s.strings[s.nodes[i + iName] as number]}` : type;
    const size = s.nodes[i + iSize] as number;
    total += size;
    const k = byKind.get(key);
    if (k) {
      k.count++;
      k.bytes += size;
    } else byKind.set(key, { count: 1, bytes: size });
  }
  return { total, byKind };
}

/** What `after` holds beyond `before`, per `per` (connections), largest first. */
export function perUnit(before: Census, after: Census, per: number, top = 40) {
  const rows: { kind: string; count: number; bytes: number }[] = [];
  for (const [kind, a] of after.byKind) {
    const b = before.byKind.get(kind) ?? { count: 0, bytes: 0 };
    rows.push({ kind, count: (a.count - b.count) / per, bytes: (a.bytes - b.bytes) / per });
  }
  rows.sort((x, y) => y.bytes - x.bytes);
  return { bytes: (after.total - before.total) / per, rows: rows.slice(0, top) };
}
