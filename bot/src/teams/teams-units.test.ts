import { readFileSync } from 'node:fs';
import { inflateRawSync } from 'node:zlib';
import { buildPoll, buildSnapshot } from '@livevote/core';
import { describe, expect, it } from 'vitest';
import { teamsManifest, teamsPackage, zip } from './app-package.ts';
import { parseTeamsCommand } from './parse-teams-command.ts';
import { MAX_CARD_BYTES, pollCard } from './poll-card.ts';

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

describe('the Teams poll card', () => {
  it('stays under 28 KB with 100 long options, voting through a dropdown', () => {
    const options = Array.from({ length: 100 }, (_, i) => `Option ${i} ${'x'.repeat(55)}`);
    const poll = buildPoll({ template: 'choice', title: 'Big', options }, 'big', new Date());
    const counts = Object.fromEntries(poll.questions[0]?.options.map((o, i) => [o.id, i]) ?? []);
    const card = pollCard(
      poll,
      buildSnapshot(poll, { version: 1, status: 'open', totalVoters: 4950, counts }),
      { publicUrl: 'https://x' },
    );
    expect(Buffer.byteLength(JSON.stringify(card))).toBeLessThan(MAX_CARD_BYTES);
    const choice = card.body.find((b: { type: string }) => b.type === 'Input.ChoiceSet');
    expect(choice.choices).toHaveLength(100);
  });

  it('marks the viewer own vote, hides counts while results are hidden, and drops voting once closed', () => {
    const poll = buildPoll(
      { template: 'choice', title: 'T', options: ['A', 'B'], settings: { results_hidden: true } },
      'p',
      new Date(),
    );
    const open = JSON.stringify(
      pollCard(poll, buildSnapshot(poll, { version: 1, status: 'open', totalVoters: 1, counts: { o2: 1 } }), {
        publicUrl: 'https://x',
        mine: { q1: ['o2'] },
      }),
    );
    expect(open).toContain('✅ B');
    expect(open).not.toContain('█');
    expect(open).not.toMatch(/\d voters?/);
    const closed = JSON.stringify(
      pollCard(
        poll,
        buildSnapshot(poll, { version: 2, status: 'closed', totalVoters: 1, counts: { o2: 1 } }),
        { publicUrl: 'https://x' },
      ),
    );
    expect(closed).not.toContain('Action.Execute","verb":"vote"');
    expect(closed).toContain('🏆 B');
  });
});

describe('Teams commands', () => {
  it('reads "lunch" and "poll Question; A; B", ignoring mentions', () => {
    expect(parseTeamsCommand('<at>livevote</at> lunch')).toEqual({ ok: true, value: { kind: 'lunch' } });
    expect(parseTeamsCommand('poll Where? ; Pizza; Sushi')).toEqual({
      ok: true,
      value: { kind: 'poll', question: 'Where?', options: ['Pizza', 'Sushi'] },
    });
    expect(parseTeamsCommand('poll Where?; Pizza').ok).toBe(false);
    expect(parseTeamsCommand('hi')).toEqual({ ok: true, value: { kind: 'help' } });
  });
});

describe('the Teams app package', () => {
  it('holds the filled-in manifest and both icons at their required sizes', () => {
    const files = unzip(teamsPackage('11111111-2222-3333-4444-555555555555', 'https://lunch.example.com/'));
    expect([...files.keys()].sort()).toEqual(['color.png', 'manifest.json', 'outline.png']);
    const m = JSON.parse(String(files.get('manifest.json')));
    expect(m.id).toBe('11111111-2222-3333-4444-555555555555');
    expect(m.bots[0].botId).toBe(m.id);
    expect(m.bots[0].scopes).toEqual(['team', 'groupChat', 'personal']);
    expect(m.validDomains).toEqual(['lunch.example.com']);
    expect(m.developer.websiteUrl).toBe('https://lunch.example.com');
    expect(pngSize(files.get('color.png') as Buffer)).toEqual([192, 192]);
    expect(pngSize(files.get('outline.png') as Buffer)).toEqual([32, 32]);
    expect(JSON.stringify(m)).not.toContain('{{');
  });

  it('writes a zip whose entries read back byte for byte', () => {
    const data = Buffer.from('가나다 livevote');
    expect(unzip(zip([{ name: 'a.txt', data }])).get('a.txt')).toEqual(data);
    expect(teamsManifest('id', 'https://h.test')).toContain('"h.test"');
    expect(readFileSync(new URL('../../../manifests/teams/outline.png', import.meta.url))[25]).toBe(6); // RGBA: transparent background
  });
});
