// The lunch ritual's tables over any Postgres (server or PGlite): catalog, schedules and runs, the fair close,
// visits, reminders and headcount. SqlStore extends this, so one object implements every store port.
import type {
  CatalogStore,
  CatalogWrite,
  HeadcountStore,
  NewCatalogPlace,
  ReminderStore,
  RunClaim,
  ScheduleRun,
  ScheduleSpec,
  ScheduleStore,
  SettleInput,
  Settlement,
  SettleOutcome,
  SettleStore,
  VisitStore,
} from '../../ports/lunch-store.ts';
import type {
  CatalogPlace,
  CatalogPlacePatch,
  Decision,
  DestinationBody,
  Schedule,
  Visit,
} from '../../protocol/index.ts';
import type { SqlDriver, SqlTx } from './sql-driver.ts';

interface PlaceRow {
  id: string;
  name: string;
  label_en: string | null;
  tags: string[];
  price: number | null;
  walk_minutes: number | null;
  dietary: string[];
  url: string | null;
  active: boolean;
  menus: { id: string; name: string; label_en?: string }[];
}

const placeOf = (r: PlaceRow): CatalogPlace => ({
  id: r.id,
  name: r.name,
  ...(r.label_en ? { label_en: r.label_en } : {}),
  tags: r.tags,
  ...(r.price ? { price: r.price as 1 | 2 | 3 } : {}),
  ...(r.walk_minutes !== null ? { walk_minutes: r.walk_minutes } : {}),
  dietary: r.dietary,
  ...(r.url ? { url: r.url } : {}),
  active: r.active,
  menus: r.menus,
});

const PLACE_SELECT = `select p.id, p.name, p.label_en, p.tags, p.price, p.walk_minutes, p.dietary, p.url, p.active,
  coalesce((select json_agg(json_strip_nulls(json_build_object('id', m.id, 'name', m.name, 'label_en', m.label_en))
    order by m.position) from place_menus m where m.place_id = p.id), '[]'::json) as menus
  from places p`;

interface RunRow {
  schedule_id: string;
  local_date: string;
  poll_id: string;
  destination: DestinationBody;
  posted_at: Date | null;
  announced_at: Date | null;
}
const runOf = (r: RunRow): ScheduleRun => ({
  schedule_id: r.schedule_id,
  local_date: r.local_date,
  poll_id: r.poll_id,
  destination: r.destination,
  posted: r.posted_at !== null,
  announced: r.announced_at !== null,
});
const RUN_COLUMNS =
  'schedule_id, local_date::text as local_date, poll_id, destination, posted_at, announced_at';

interface ScheduleRow {
  id: string;
  workspace: string;
  spec: ScheduleSpec;
  created_at: Date;
}
const scheduleOf = (r: ScheduleRow): Schedule => ({
  id: r.id,
  workspace: r.workspace,
  ...r.spec,
  created_at: new Date(r.created_at).toISOString(),
});

export class SqlLunchStore
  implements CatalogStore, ScheduleStore, VisitStore, ReminderStore, HeadcountStore, SettleStore
{
  constructor(
    protected readonly db: SqlDriver,
    /** Write the audit/archive outbox rows of a close (as SqlStore.closePoll does). */
    private readonly auditCloses: boolean,
  ) {}

  // ---- catalog ------------------------------------------------------------------------------------------

  async places(workspace: string): Promise<CatalogPlace[]> {
    const rows = await this.db.query<PlaceRow>(
      `${PLACE_SELECT} where p.workspace = $1 order by p.position, p.created_at, p.id`,
      [workspace],
    );
    return rows.map(placeOf);
  }

  async placeWorkspace(id: string): Promise<string | null> {
    const rows = await this.db.query<{ workspace: string }>('select workspace from places where id = $1', [
      id,
    ]);
    return rows[0]?.workspace ?? null;
  }

  private async placeIn(tx: SqlTx, id: string): Promise<CatalogPlace | null> {
    const rows = await tx.query<PlaceRow>(`${PLACE_SELECT} where p.id = $1`, [id]);
    return rows[0] ? placeOf(rows[0]) : null;
  }

  async addPlace(workspace: string, place: NewCatalogPlace): Promise<CatalogWrite<CatalogPlace>> {
    return this.db.transaction(async (tx) => {
      const ok = await this.insertPlace(tx, workspace, place);
      if (!ok) return { ok: false, reason: 'place_exists' } as const;
      const saved = await this.placeIn(tx, place.id);
      if (!saved) throw new Error('place vanished right after it was added');
      return { ok: true, value: saved } as const;
    });
  }

  private async insertPlace(tx: SqlTx, workspace: string, p: NewCatalogPlace): Promise<boolean> {
    const rows = await tx.query(
      `insert into places (id, workspace, name, label_en, tags, price, walk_minutes, dietary, url, active, position)
       select $1, $2, $3, $4, $5, $6, $7, $8, $9, $10,
         coalesce((select max(position) + 1 from places where workspace = $2), 0)
       on conflict do nothing returning 1`,
      [
        p.id,
        workspace,
        p.name,
        p.label_en ?? null,
        p.tags,
        p.price ?? null,
        p.walk_minutes ?? null,
        p.dietary,
        p.url ?? null,
        p.active,
      ],
    );
    if (rows.length === 0) return false;
    await this.writeMenus(tx, p.id, p.menus);
    return true;
  }

  private async writeMenus(tx: SqlTx, placeId: string, menus: NewCatalogPlace['menus']): Promise<void> {
    await tx.query('delete from place_menus where place_id = $1 and not (id = any ($2))', [
      placeId,
      menus.map((m) => m.id),
    ]);
    if (menus.length === 0) return;
    await tx.query(
      `insert into place_menus (id, place_id, position, name, label_en)
       select m.id, $1, m.position, m.name, m.label_en
       from jsonb_to_recordset($2::jsonb) as m(id text, position int, name text, label_en text)
       on conflict (id) do update set position = excluded.position, name = excluded.name,
         label_en = excluded.label_en where place_menus.place_id = excluded.place_id`,
      [placeId, JSON.stringify(menus.map((m, position) => ({ ...m, position })))],
    );
  }

  async updatePlace(
    workspace: string,
    id: string,
    patch: Omit<CatalogPlacePatch, 'menus'> & { menus?: NewCatalogPlace['menus'] },
  ): Promise<CatalogWrite<CatalogPlace>> {
    return this.db.transaction(async (tx) => {
      const found = await tx.query<{ id: string }>(
        'select id from places where id = $1 and workspace = $2 for update',
        [id, workspace],
      );
      if (found.length === 0) return { ok: false, reason: 'unknown_place' } as const;
      if (patch.name !== undefined) {
        const clash = await tx.query(
          'select 1 from places where workspace = $1 and lower(name) = lower($2) and id <> $3',
          [workspace, patch.name, id],
        );
        if (clash.length > 0) return { ok: false, reason: 'place_exists' } as const;
      }
      const columns = [
        'name',
        'label_en',
        'tags',
        'price',
        'walk_minutes',
        'dietary',
        'url',
        'active',
      ] as const;
      const sets: string[] = [];
      const params: unknown[] = [id];
      for (const c of columns) {
        if (patch[c] === undefined) continue;
        params.push(patch[c]);
        sets.push(`${c} = $${params.length}`);
      }
      await tx.query(`update places set ${[...sets, 'updated_at = now()'].join(', ')} where id = $1`, params);
      if (patch.menus) await this.writeMenus(tx, id, patch.menus);
      const saved = await this.placeIn(tx, id);
      if (!saved) throw new Error('place vanished during its update');
      return { ok: true, value: saved } as const;
    });
  }

  async seedPlaces(workspace: string, places: NewCatalogPlace[]): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      // Two first readers at once: the second waits here, then finds the places and adds none.
      await tx.query('select pg_advisory_xact_lock(7270007, hashtext($1))', [workspace]);
      const any = await tx.query('select 1 from places where workspace = $1 limit 1', [workspace]);
      if (any.length > 0) return false;
      for (const p of places) await this.insertPlace(tx, workspace, p);
      return true;
    });
  }

  // ---- schedules ----------------------------------------------------------------------------------------

  async schedules(workspace?: string): Promise<Schedule[]> {
    const rows = await this.db.query<ScheduleRow>(
      `select id, workspace, spec, created_at from schedules where ($1::text is null or workspace = $1)
       order by created_at, id`,
      [workspace ?? null],
    );
    return rows.map(scheduleOf);
  }

  async schedule(id: string): Promise<Schedule | null> {
    const rows = await this.db.query<ScheduleRow>(
      'select id, workspace, spec, created_at from schedules where id = $1',
      [id],
    );
    return rows[0] ? scheduleOf(rows[0]) : null;
  }

  async createSchedule(s: Schedule): Promise<void> {
    const { id, workspace, created_at, ...spec } = s;
    await this.db.query('insert into schedules (id, workspace, spec, created_at) values ($1, $2, $3, $4)', [
      id,
      workspace,
      JSON.stringify(spec),
      created_at,
    ]);
  }

  async updateSchedule(id: string, spec: ScheduleSpec): Promise<Schedule | null> {
    const rows = await this.db.query<ScheduleRow>(
      `update schedules set spec = $2, updated_at = now() where id = $1
       returning id, workspace, spec, created_at`,
      [id, JSON.stringify(spec)],
    );
    return rows[0] ? scheduleOf(rows[0]) : null;
  }

  async deleteSchedule(id: string): Promise<boolean> {
    return (await this.db.query('delete from schedules where id = $1 returning 1', [id])).length === 1;
  }

  async claimRun(run: Omit<ScheduleRun, 'posted' | 'announced'>, leaseMs: number): Promise<RunClaim> {
    const inserted = await this.db.query<RunRow>(
      `insert into schedule_runs (schedule_id, local_date, poll_id, destination, claimed_until)
       values ($1, $2::date, $3, $4, now() + $5 * interval '1 millisecond')
       on conflict do nothing returning ${RUN_COLUMNS}`,
      [run.schedule_id, run.local_date, run.poll_id, JSON.stringify(run.destination), leaseMs],
    );
    if (inserted[0]) return { state: 'claimed', run: runOf(inserted[0]) };
    const taken = await this.db.query<RunRow>(
      `update schedule_runs set claimed_until = now() + $3 * interval '1 millisecond'
       where schedule_id = $1 and local_date = $2::date and posted_at is null
         and (claimed_until is null or claimed_until < now())
       returning ${RUN_COLUMNS}`,
      [run.schedule_id, run.local_date, leaseMs],
    );
    if (taken[0]) return { state: 'claimed', run: runOf(taken[0]) };
    const rows = await this.db.query<RunRow>(
      `select ${RUN_COLUMNS} from schedule_runs where schedule_id = $1 and local_date = $2::date`,
      [run.schedule_id, run.local_date],
    );
    const existing = rows[0];
    if (!existing) throw new Error('schedule run vanished while being claimed');
    return { state: existing.posted_at ? 'done' : 'busy', run: runOf(existing) };
  }

  async renewRun(scheduleId: string, localDate: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `update schedule_runs set claimed_until = now() + $3 * interval '1 millisecond'
       where schedule_id = $1 and local_date = $2::date and posted_at is null returning 1`,
      [scheduleId, localDate, leaseMs],
    );
    return rows.length === 1;
  }

  async runPosted(scheduleId: string, localDate: string): Promise<void> {
    await this.db.query(
      `update schedule_runs set posted_at = coalesce(posted_at, now()), claimed_until = null
       where schedule_id = $1 and local_date = $2::date`,
      [scheduleId, localDate],
    );
  }

  async runOn(scheduleId: string, localDate: string): Promise<ScheduleRun | null> {
    const rows = await this.db.query<RunRow>(
      `select ${RUN_COLUMNS} from schedule_runs where schedule_id = $1 and local_date = $2::date`,
      [scheduleId, localDate],
    );
    return rows[0] ? runOf(rows[0]) : null;
  }

  async runOfPoll(pollId: string): Promise<ScheduleRun | null> {
    const rows = await this.db.query<RunRow>(`select ${RUN_COLUMNS} from schedule_runs where poll_id = $1`, [
      pollId,
    ]);
    return rows[0] ? runOf(rows[0]) : null;
  }

  async claimRunAnnouncement(pollId: string, leaseMs: number): Promise<boolean> {
    const rows = await this.db.query(
      `update schedule_runs set announce_until = now() + $2 * interval '1 millisecond'
        where poll_id = $1 and announced_at is null and (announce_until is null or announce_until <= now())
        returning 1`,
      [pollId, leaseMs],
    );
    return rows.length === 1;
  }

  async runAnnounced(pollId: string): Promise<void> {
    await this.db.query(
      'update schedule_runs set announced_at = coalesce(announced_at, now()), announce_until = null where poll_id = $1',
      [pollId],
    );
  }

  async releaseRunAnnouncement(pollId: string): Promise<void> {
    await this.db.query(
      'update schedule_runs set announce_until = null where poll_id = $1 and announced_at is null',
      [pollId],
    );
  }

  async recentRunPolls(scheduleId: string, limit: number): Promise<string[]> {
    const rows = await this.db.query<{ poll_id: string }>(
      'select poll_id from schedule_runs where schedule_id = $1 order by local_date desc limit $2',
      [scheduleId, limit],
    );
    return rows.map((r) => r.poll_id);
  }

  // ---- visits -------------------------------------------------------------------------------------------

  async visits(workspace: string, limit = 500): Promise<Visit[]> {
    return this.db.query<Visit>(
      `select place_id, name, local_date::text as date, poll_id, votes from visits
       where workspace = $1 order by local_date desc, created_at desc limit $2`,
      [workspace, limit],
    );
  }

  async lastVisits(workspace: string): Promise<Map<string, string>> {
    const rows = await this.db.query<{ place_id: string; last: string }>(
      `select place_id, max(local_date)::text as last from visits
       where workspace = $1 and place_id is not null group by place_id`,
      [workspace],
    );
    return new Map(rows.map((r) => [r.place_id, r.last]));
  }

  // ---- reminders and headcount --------------------------------------------------------------------------

  async claimReminder(pollId: string, target: string): Promise<boolean> {
    const rows = await this.db.query(
      'insert into reminders (poll_id, target) values ($1, $2) on conflict do nothing returning 1',
      [pollId, target],
    );
    return rows.length === 1;
  }

  async remindersSent(pollId: string): Promise<string[]> {
    const rows = await this.db.query<{ target: string }>(
      'select target from reminders where poll_id = $1 order by sent_at',
      [pollId],
    );
    return rows.map((r) => r.target);
  }

  async setReminderOptOut(workspace: string, voterKey: string, optOut: boolean): Promise<void> {
    await this.db.query(
      optOut
        ? 'insert into reminder_opt_outs (workspace, voter_key) values ($1, $2) on conflict do nothing'
        : 'delete from reminder_opt_outs where workspace = $1 and voter_key = $2',
      [workspace, voterKey],
    );
  }

  async reminderOptOuts(workspace: string): Promise<Set<string>> {
    const rows = await this.db.query<{ voter_key: string }>(
      'select voter_key from reminder_opt_outs where workspace = $1',
      [workspace],
    );
    return new Set(rows.map((r) => r.voter_key));
  }

  async votersOfPolls(pollIds: string[]): Promise<Map<string, Set<string>>> {
    const rows = await this.db.query<{ poll_id: string; voters: string[] }>(
      `select b.poll_id, array_agg(distinct b.voter_key) as voters from ballots b join polls p on p.id = b.poll_id
       where b.poll_id = any ($1) and not coalesce((p.settings->>'anonymous')::boolean, false)
       group by b.poll_id`,
      [pollIds],
    );
    return new Map(rows.map((r) => [r.poll_id, new Set(r.voters)]));
  }

  async joinHeadcount(pollId: string, voterKey: string, join: boolean): Promise<void> {
    await this.db.query(
      join
        ? 'insert into headcount (poll_id, voter_key) values ($1, $2) on conflict do nothing'
        : 'delete from headcount where poll_id = $1 and voter_key = $2',
      [pollId, voterKey],
    );
  }

  async headcount(pollId: string): Promise<{ count: number; voters: string[] }> {
    const rows = await this.db.query<{ voter_key: string }>(
      'select voter_key from headcount where poll_id = $1 order by at',
      [pollId],
    );
    return { count: rows.length, voters: rows.map((r) => r.voter_key) };
  }

  // ---- the fair close -----------------------------------------------------------------------------------

  async settlePoll(
    pollId: string,
    closedBy: string | null,
    settle: (t: SettleInput) => Settlement,
  ): Promise<SettleOutcome> {
    return this.db.transaction(async (tx): Promise<SettleOutcome> => {
      // Every shard row of the poll first (in the order closePoll's update takes them, so the two never deadlock): a
      // vote takes one of them, so none lands between this read and the close.
      const shards = await tx.query<{ voters: string; open: boolean }>(
        'select voters, open from poll_shards where poll_id = $1 order by shard for update',
        [pollId],
      );
      const polls = await tx.query<{ status: string; closes_at: Date | null; extended_at: Date | null }>(
        'select status, closes_at, extended_at from polls where id = $1 for update',
        [pollId],
      );
      const poll = polls[0];
      if (!poll) return { ok: false, reason: 'unknown_poll' };
      if (poll.status === 'closed') return { ok: true, closed: false, extended: false, decision: null };
      if (!shards.some((s) => s.open)) return { ok: true, closed: false, extended: false, decision: null };
      const counts = await tx.query<{ key: string; n: number }>(
        'select key, sum(n)::int as n from tally where poll_id = $1 group by key',
        [pollId],
      );
      const s = settle({
        counts: Object.fromEntries(counts.map((c) => [c.key, c.n])),
        totalVoters: shards.reduce((sum, r) => sum + Number(r.voters), 0),
        closesAt: poll.closes_at ? new Date(poll.closes_at).toISOString() : null,
        extended: poll.extended_at !== null,
      });
      if (s.action === 'keep') return { ok: true, closed: false, extended: false, decision: null };
      if (s.action === 'extend') {
        await tx.query('update polls set closes_at = $2, extended_at = now() where id = $1', [
          pollId,
          s.until.toISOString(),
        ]);
        await tx.query('update poll_shards set changes = changes + 1 where poll_id = $1 and shard = 0', [
          pollId,
        ]);
        return { ok: true, closed: false, extended: true, decision: null };
      }
      await this.closeIn(tx, pollId, closedBy, s.decision ?? null);
      if (s.visit) {
        const v = s.visit;
        await tx.query(
          `insert into visits (poll_id, workspace, place_id, name, local_date, votes)
           values ($1, $2, $3, $4, $5::date, $6) on conflict do nothing`,
          [pollId, v.workspace, v.place_id, v.name, v.date, v.votes],
        );
      }
      return { ok: true, closed: true, extended: false, decision: s.decision ?? null };
    });
  }

  /** What SqlStore.closePoll does, plus the decision, inside the caller's transaction. */
  private async closeIn(tx: SqlTx, pollId: string, closedBy: string | null, decision: Decision | null) {
    await tx.query(
      `update poll_shards set open = false, changes = changes + (shard = 0)::int where poll_id = $1 and open`,
      [pollId],
    );
    await tx.query(
      `update polls set status = 'closed', closed_at = coalesce(closed_at, now()), decision = $2 where id = $1`,
      [pollId, decision ? JSON.stringify(decision) : null],
    );
    if (this.auditCloses) {
      await tx.query('select lv_audit($1, $2)', [
        pollId,
        JSON.stringify({ type: 'poll_closed', actor: closedBy }),
      ]);
      await tx.query(`insert into outbox (kind, poll_id, doc) values ('archive', $1, '{}')`, [pollId]);
    }
  }

  async nextCloseAt(): Promise<Date | null> {
    const rows = await this.db.query<{ at: Date | null }>(
      `select min(closes_at) as at from polls where status = 'open' and closes_at is not null`,
    );
    const at = rows[0]?.at;
    return at ? new Date(at) : null;
  }

  async duePolls(now: Date, limit = 100): Promise<string[]> {
    const rows = await this.db.query<{ id: string }>(
      `select id from polls where status = 'open' and closes_at <= $1 order by closes_at limit $2`,
      [now.toISOString(), limit],
    );
    return rows.map((r) => r.id);
  }
}
