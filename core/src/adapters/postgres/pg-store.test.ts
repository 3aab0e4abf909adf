import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { storeContract } from '../../../test/store-contract.ts';
import { createTestDatabase, TEST_ANONYMITY_KEY } from '../../../testing/index.ts';
import { buildPoll } from '../../domain/poll-definition.ts';
import { type Voter, webVoter } from '../../domain/voter.ts';
import { PollKeys } from '../sql/anonymity.ts';
import { migrate } from '../sql/migrate.ts';
import { MIGRATIONS } from '../sql/migrations.ts';
import { SqlStore } from '../sql/sql-store.ts';
import { createPgStore, pgDriver } from './pg-store.ts';

storeContract(
  'Postgres (pg)',
  async () => {
    const db = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: db.url, max: 20 });
    const store = await createPgStore(pool, { anonymityKey: TEST_ANONYMITY_KEY });
    return {
      store,
      withOptions: (options) => new SqlStore(pgDriver(pool), options),
      sql: async (text, params) => (await pool.query(text, params)).rows,
      async close() {
        await pool.end();
        await db.drop();
      },
    };
  },
  { concurrency: 200 },
);

describe('Postgres migrations', () => {
  it('apply once, are safe to run again, and are safe from two processes at once', async () => {
    const db = await createTestDatabase();
    const pools = [new pg.Pool({ connectionString: db.url }), new pg.Pool({ connectionString: db.url })];
    try {
      const [a, b] = await Promise.all(pools.map((p) => migrate(pgDriver(p))));
      expect([...(a ?? []), ...(b ?? [])].sort((x, y) => x - y)).toEqual(MIGRATIONS.map((m) => m.version));
      expect(await migrate(pgDriver(pools[0] as pg.Pool))).toEqual([]);
      const { rows } = await (pools[0] as pg.Pool).query('select count(*)::int as n from schema_migrations');
      expect(rows[0].n).toBe(MIGRATIONS.length);
    } finally {
      await Promise.all(pools.map((p) => p.end()));
      await db.drop();
    }
  });
});

describe('Postgres migration 4 (workspaces)', () => {
  it('moves existing polls, chat messages and directory rows into the workspace they came from', async () => {
    const db = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: db.url });
    try {
      await migrate(
        pgDriver(pool),
        MIGRATIONS.filter((m) => m.version < 4),
      );
      const poll = (id: string, by: string) =>
        pool.query(
          `insert into polls (id, title, template, settings, created_by) values ($1, 't', 'choice', '{}', $2)`,
          [id, by],
        );
      await poll('s1', 'slack:T123:U1');
      await poll('t1', 'teams:0f3c-tenant:aad-9');
      await poll('w1', 'admin');
      await poll('d1', 'seed');
      await pool.query(
        `insert into chat_messages (platform, channel, message_id, poll_id) values ('slack', 'C1', '1.1', 's1')`,
      );
      await pool.query(`insert into directory (platform, tenant, user_id, emp_no) values
        ('slack', 'T123', 'U1', '1'), ('teams', '0f3c-tenant', 'aad-9', '2'), ('web', '', '3', '3')`);
      expect(await migrate(pgDriver(pool))).toContain(4);
      const polls = await pool.query('select id, workspace from polls order by id');
      expect(Object.fromEntries(polls.rows.map((r) => [r.id, r.workspace]))).toEqual({
        d1: 'web',
        s1: 'slack:T123',
        t1: 'teams:0f3c-tenant',
        w1: 'web',
      });
      const chat = await pool.query('select workspace from chat_messages');
      expect(chat.rows[0].workspace).toBe('slack:T123');
      const dir = await pool.query('select user_id, workspace from directory order by user_id');
      expect(dir.rows.map((r) => r.workspace)).toEqual(['web', 'slack:T123', 'teams:0f3c-tenant']);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});

describe('Postgres migration 6 (anonymous polls keep keyed hashes)', () => {
  it("hashes existing anonymous polls' voters and keys, drops what names a person, and leaves other polls alone", async () => {
    const db = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: db.url });
    const sql = async (text: string, params?: unknown[]) => (await pool.query(text, params)).rows;
    const keys = new PollKeys(TEST_ANONYMITY_KEY);
    try {
      await migrate(
        pgDriver(pool),
        MIGRATIONS.filter((m) => m.version < 6),
      );
      // Rows as migration 5's lv_cast wrote them, called as the store called it then (the store now calls a later
      // migration's procedure).
      const before = new SqlStore(pgDriver(pool), { anonymityKey: TEST_ANONYMITY_KEY });
      const anon = buildPoll(
        { template: 'choice', title: 'A', options: ['x', 'y'], settings: { anonymous: true } },
        'anon6',
        new Date(),
      );
      const open = buildPoll({ template: 'choice', title: 'O', options: ['x', 'y'] }, 'open6', new Date());
      for (const p of [anon, open]) await before.createPoll(p, 'admin');
      const slack = { platform: 'slack', tenant: 'T6', user: 'U6' } as const;
      const castV5 = (poll: string, v: Voter, option: string, key: string | null = null) =>
        sql('select lv_cast($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) as r', [
          poll,
          'q1',
          v.platform,
          v.tenant,
          v.user,
          v.emp_no ?? null,
          [option],
          key,
          0,
          true,
        ]);
      await castV5('anon6', webVoter('601'), 'o1');
      await castV5('anon6', slack, 'o2', 'slack:1.1:2.2:U6');
      await castV5('open6', webVoter('602'), 'o1', 'k602');
      await sql(`update options set added_by = 'emp:603' where id = 'o2'`);
      await sql(`update polls set settings = settings - 'show_turnout'`); // as polls were before the setting
      await sql(
        `update outbox set doc = doc || '{"delivery_id": "slack:1.1:2.2:U6"}' where poll_id = 'anon6'`,
      );

      // Hashing needs the key; without it the migration stops, and nothing of it is applied.
      await expect(migrate(pgDriver(pool))).rejects.toThrow(/anonymity key/);
      expect((await sql('select max(version)::int as v from schema_migrations'))[0].v).toBe(5);

      expect(await migrate(pgDriver(pool), MIGRATIONS, { pollKeys: keys })).toEqual(
        MIGRATIONS.filter((m) => m.version >= 6).map((m) => m.version),
      );
      const ballots = await sql('select poll_id, voter_key from ballots order by poll_id, voter_key');
      expect(ballots).toEqual(
        [
          { poll_id: 'anon6', voter_key: keys.hash('anon6', 'voter', 'emp:601') },
          { poll_id: 'anon6', voter_key: keys.hash('anon6', 'voter', 'slack:T6:U6') },
          { poll_id: 'open6', voter_key: 'emp:602' },
        ].sort((a, b) => (a.poll_id + a.voter_key).localeCompare(b.poll_id + b.voter_key)),
      );
      expect(await sql('select voter_key, key from idempotency order by poll_id')).toEqual([
        {
          voter_key: keys.hash('anon6', 'voter', 'slack:T6:U6'),
          key: keys.hash('anon6', 'key', 'slack:1.1:2.2:U6'),
        },
        { voter_key: 'emp:602', key: 'k602' },
      ]);
      const anonRows = JSON.stringify(
        await sql(
          `select o.added_by, x.doc from options o, outbox x where o.poll_id = 'anon6' and x.poll_id = 'anon6'`,
        ),
      );
      // Identities only: a bare 601 may be a timestamp's milliseconds.
      expect(anonRows).not.toMatch(/emp:60[13]|"60[13]"|k60[13]|U6/);
      const plain = await sql(`select doc from outbox where poll_id = 'open6' and doc->>'type' = 'vote'`);
      expect(plain[0].doc).toMatchObject({ voter: 'emp:602', delivery_id: 'k602' });

      // The same people, after: their ballots are found, a repeat changes nothing, a redelivery replays.
      const after = await createPgStore(pool, { anonymityKey: TEST_ANONYMITY_KEY });
      expect(await after.ballotsOf('anon6', webVoter('601'))).toEqual({ q1: ['o1'] });
      expect(
        await after.cast({ pollId: 'anon6', questionId: 'q1', voter: webVoter('601'), optionIds: ['o1'] }),
      ).toMatchObject({ ok: true, changed: false });
      expect(
        await after.cast({
          pollId: 'anon6',
          questionId: 'q1',
          voter: slack,
          optionIds: ['o2'],
          idempotencyKey: 'slack:1.1:2.2:U6',
        }),
      ).toMatchObject({ ok: true, replayed: true });
      expect((await after.readTally('anon6'))?.totalVoters).toBe(2);
      // Polls made before show_turnout existed get it, off.
      const settings = await sql('select settings from polls order by id');
      expect(settings.map((r) => r.settings.show_turnout)).toEqual([false, false]);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});

describe('Postgres migration 8 (chat conversations)', () => {
  it("stores Teams messages' service URLs without the trailing slash Teams sends, and leaves Slack's alone", async () => {
    const db = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: db.url });
    const sql = async (text: string, params?: unknown[]) => (await pool.query(text, params)).rows;
    try {
      await migrate(
        pgDriver(pool),
        MIGRATIONS.filter((m) => m.version < 8),
        { pollKeys: new PollKeys(TEST_ANONYMITY_KEY) },
      );
      const before = new SqlStore(pgDriver(pool), { anonymityKey: TEST_ANONYMITY_KEY });
      await before.createPoll(
        buildPoll({ template: 'choice', title: 'T', options: ['a', 'b'] }, 'p7', new Date()),
        'admin',
      );
      const url = 'https://smba.trafficmanager.net/amer/';
      await before.saveChatMessage({
        platform: 'teams',
        channel: 'c1',
        message_id: 'a1',
        poll_id: 'p7',
        meta: { serviceUrl: url },
      });
      await before.saveChatMessage({
        platform: 'slack',
        channel: 'C1',
        message_id: '1.1',
        poll_id: 'p7',
        meta: { serviceUrl: url },
      });
      expect(
        await migrate(pgDriver(pool), MIGRATIONS, { pollKeys: new PollKeys(TEST_ANONYMITY_KEY) }),
      ).toEqual(MIGRATIONS.filter((m) => m.version >= 8).map((m) => m.version));
      const rows = await sql(
        `select platform, meta->>'serviceUrl' as url from chat_messages order by platform`,
      );
      expect(rows).toEqual([
        { platform: 'slack', url },
        { platform: 'teams', url: 'https://smba.trafficmanager.net/amer' },
      ]);
    } finally {
      await pool.end();
      await db.drop();
    }
  });
});
