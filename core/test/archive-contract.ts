// The Archive contract: one suite, run against the in-memory archive always and MongoDB when MONGO_URL is set.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Archive, ArchivedPoll, AuditEntry } from '../src/ports/archive.ts';

export interface ArchiveFixture {
  archive: Archive;
  close(): Promise<void>;
}

const entry = (event_id: string, second: number, extra: Partial<AuditEntry> = {}): AuditEntry => ({
  event_id,
  type: 'vote',
  poll_id: 'arch1',
  at: new Date(Date.UTC(2026, 10, 24, 3, 0, second)).toISOString(),
  question_id: 'q1',
  option_ids: ['o1'],
  previous_option_ids: [],
  changed: true,
  platform: 'slack',
  delivery_id: `d-${event_id}`,
  voter: 'slack:T1:U1',
  ...extra,
});

const archived = (title: string): ArchivedPoll => ({
  poll_id: 'arch1',
  poll: {
    id: 'arch1',
    title,
    template: 'choice',
    status: 'closed',
    created_at: '2026-11-24T02:00:00.000Z',
    closes_at: null,
    settings: {
      anonymous: false,
      results_hidden: false,
      allow_add_options: false,
      quorum: null,
    },
    questions: [
      { id: 'q1', kind: 'choice', prompt: title, max_choices: 1, options: [{ id: 'o1', label: '국밥' }] },
    ],
  } as ArchivedPoll['poll'],
  closed_at: '2026-11-24T03:30:00.000Z',
  archived_at: '2026-11-24T03:30:01.000Z',
  result: {
    poll_id: 'arch1',
    version: 2,
    status: 'closed',
    results_hidden: false,
    total_voters: 1,
    leader: { question_id: 'q1', option_id: 'o1', label: '국밥', vote_count: 1 },
    questions: [
      {
        question_id: 'q1',
        kind: 'choice',
        voters: 1,
        leader: 'o1',
        options: [{ option_id: 'o1', label: '국밥', vote_count: 1 }],
      },
    ],
  },
  history: [{ at: '2026-11-24T03:00:01.000Z', change: 1, counts: { o1: 1, '#q1': 1 } }],
});

export function archiveContract(name: string, open: () => Promise<ArchiveFixture>) {
  describe(`Archive contract: ${name}`, () => {
    let fx: ArchiveFixture;
    beforeAll(async () => {
      fx = await open();
      await fx.archive.ensureIndexes();
      await fx.archive.ensureIndexes(); // at every start: must be harmless
    });
    afterAll(async () => fx?.close());

    it('stores audit entries once per event id, returned in time order', async () => {
      const { archive } = fx;
      await archive.writeAudit([entry('e2', 2, { option_ids: ['o2'] }), entry('e1', 1)]);
      // A drainer retrying the same batch (after a crash) must not duplicate anything.
      await archive.writeAudit([entry('e1', 1), entry('e3', 3, { type: 'retract', option_ids: [] })]);
      const got = await archive.auditOf('arch1');
      expect(got.map((e) => e.event_id)).toEqual(['e1', 'e2', 'e3']);
      expect(got[1]).toEqual(entry('e2', 2, { option_ids: ['o2'] }));
      expect(await archive.auditOf('other')).toEqual([]);
    });

    it('keeps one archive document per poll, the latest written', async () => {
      const { archive } = fx;
      expect(await archive.archived('arch1')).toBeNull();
      await archive.writeArchive([archived('first')]);
      await archive.writeArchive([archived('second')]);
      expect(await archive.archived('arch1')).toEqual(archived('second'));
      await archive.ping();
    });
  });
}
