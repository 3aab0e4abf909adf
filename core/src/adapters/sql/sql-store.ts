// The Store over any Postgres (server or PGlite). Each write is one statement or one short transaction;
// a group-committed batch of casts (often of one) is one call of lv_cast_commit, which also reads the tallies after
// the commit (see migrations.ts), so a vote costs one round trip.
import { randomInt } from 'node:crypto';
import type { Voter } from '../../domain/voter.ts';
import type {
  AddOptionOutcome,
  BallotRow,
  CastCommand,
  CastOutcome,
  ChatConversation,
  ChatMessage,
  ChatMessageKey,
  DirectoryEntry,
  DirectoryImport,
  OutboxRow,
  PollQuery,
  PollTally,
  Store,
} from '../../ports/store.ts';
import type { DirectoryHeldElsewhere, Poll, PollSummary } from '../../protocol/index.ts';
import { PollKeys } from './anonymity.ts';
import { CastBatcher } from './cast-batcher.ts';
import { SHARDS } from './migrations.ts';
import type { SqlDriver } from './sql-driver.ts';
import { SqlLunchStore } from './sql-lunch-store.ts';

const iso = (d: Date | string | null): string | null => (d === null ? null : new Date(d).toISOString());

const EFFECTIVE_STATUS = `case when p.status = 'open' and (p.closes_at is null or p.closes_at > now())
  then 'open' else 'closed' end`;

interface PollRow {
  id: string;
  workspace: string;
  title: string;
  template: Poll['template'];
  status: Poll['status'];
  created_at: Date;
  closes_at: Date | null;
  settings: Poll['settings'];
  questions: Poll['questions'];
  decision?: Poll['decision'] | null;
  results_hidden?: boolean;
}

const summaryOf = (r: PollRow): PollSummary => ({
  id: r.id,
  workspace: r.workspace,
  title: r.title,
  template: r.template,
  status: r.status,
  created_at: iso(r.created_at) ?? '',
  closes_at: iso(r.closes_at),
});

type CastRow = Record<string, unknown>;

/** lv_tally's answer. */
interface TallyJson {
  status: Poll['status'];
  version: number;
  voters: number;
  option_count: number;
  counts: Record<string, number>;
  closes_at?: string | null;
}

const tallyOf = (t: TallyJson | null | undefined): PollTally | null =>
  t
    ? {
        version: t.version,
        status: t.status,
        totalVoters: t.voters,
        counts: t.counts,
        optionCount: t.option_count,
        ...(t.closes_at === undefined ? {} : { closesAt: iso(t.closes_at) }),
      }
    : null;

function toOutcome(r: CastRow | undefined): CastOutcome {
  if (!r) throw new Error('lv_cast returned no row');
  if (r.ok !== true) return { ok: false, reason: r.reason as Extract<CastOutcome, { ok: false }>['reason'] };
  return {
    ok: true,
    changed: r.changed === true,
    replayed: r.replayed === true,
    optionIds: (r.option_ids as string[]) ?? [],
  };
}

/** A cast's row as its outcome; an accepted one carries the tally read after its commit. */
function castOutcome(row: CastRow | undefined, tally: PollTally | null | undefined): CastOutcome {
  const outcome = toOutcome(row);
  return outcome.ok && tally ? { ...outcome, tally } : outcome;
}

const DEADLOCK_OR_SERIALIZATION = new Set(['40P01', '40001']);

const DAY_MS = 86_400_000;
/** Keys deleted per statement: a purge never holds many row locks, nor for long. */
const PURGE_BATCH = 5_000;

export interface SqlStoreOptions {
  /**
   * The server's anonymity secret (≥ 32 characters): anonymous polls store keyed hashes derived from it in place of
   * voter keys and delivery ids (see anonymity.ts). Every store on one database must use the same one, or a person
   * gets a second vote; it must not live in that database, or the hashes could be reversed from a copy of it.
   */
  anonymityKey: string;
  /**
   * Cast transactions in flight at once (default 1). Casts that arrive in one turn of the event loop go together in
   * one transaction, and while every slot is busy the next ones wait and go together when one frees.
   */
  castSlots?: number;
  /**
   * Write the audit/archive outbox with every change (default). Off when no archive is configured (MONGO_URL unset):
   * nothing would ever deliver or purge those rows.
   */
  audit?: boolean;
  /** How long an idempotency key replays its first outcome (default 24 hours); older keys count as new. */
  idempotencyTtlMs?: number;
}

export class SqlStore extends SqlLunchStore implements Store {
  private readonly batcher: CastBatcher;
  private readonly audit: boolean;
  private readonly idempotencyTtl: string;
  private readonly pollKeys: PollKeys;

  constructor(db: SqlDriver, options: SqlStoreOptions) {
    super(db, options.audit ?? true);
    this.pollKeys = new PollKeys(options.anonymityKey);
    this.batcher = new CastBatcher((cmds) => this.castBatch(cmds), options.castSlots ?? 1);
    this.audit = options.audit ?? true;
    this.idempotencyTtl = String(Math.round(options.idempotencyTtlMs ?? DAY_MS));
  }

  async createPoll(poll: Poll, createdBy: string | null): Promise<void> {
    await this.db.transaction(async (tx) => {
      await tx.query(
        `insert into polls (id, workspace, title, template, status, settings, created_by, created_at, closes_at)
         values ($1, $8, $2, $3, 'open', $4, $5, $6, $7)`,
        [
          poll.id,
          poll.title,
          poll.template,
          JSON.stringify(poll.settings),
          createdBy,
          poll.created_at,
          poll.closes_at,
          poll.workspace,
        ],
      );
      await tx.query(
        `insert into questions (poll_id, id, position, kind, prompt, max_choices)
         select $1, q.id, q.position, q.kind, q.prompt, q.max_choices
         from jsonb_to_recordset($2::jsonb) as q(id text, position int, kind text, prompt text, max_choices int)`,
        [
          poll.id,
          JSON.stringify(poll.questions.map((q, position) => ({ ...q, options: undefined, position }))),
        ],
      );
      const options = poll.questions.flatMap((q) =>
        q.options.map((o, position) => ({ ...o, question_id: q.id, position })),
      );
      await tx.query(
        `insert into options (poll_id, question_id, id, position, label, label_en, place_id)
         select $1, o.question_id, o.id, o.position, o.label, o.label_en, o.place_id
         from jsonb_to_recordset($2::jsonb)
           as o(question_id text, id text, position int, label text, label_en text, place_id text)`,
        [poll.id, JSON.stringify(options)],
      );
      await tx.query(
        'insert into poll_shards (poll_id, shard) select $1, s from generate_series(0, $2 - 1) s',
        [poll.id, SHARDS],
      );
      if (this.audit)
        await tx.query('select lv_audit($1, $2)', [
          poll.id,
          JSON.stringify({ type: 'poll_created', actor: createdBy, label: poll.title }),
        ]);
    });
  }

  async listPolls(q: PollQuery = {}): Promise<PollSummary[]> {
    const rows = await this.db.query<PollRow>(
      `select p.id, p.workspace, p.title, p.template, ${EFFECTIVE_STATUS} as status, p.created_at, p.closes_at,
         coalesce((p.settings->>'results_hidden')::boolean, false) as results_hidden
       from polls p
       where ($1::text is null or p.workspace = $1) and ($2::text is null or p.template = $2)
         and (not $3 or (p.status = 'open' and (p.closes_at is null or p.closes_at > now())))
       order by p.created_at desc, p.id limit $4`,
      [q.workspace ?? null, q.template ?? null, q.openOnly ?? false, q.limit ?? 100],
    );
    return rows.map((r) => ({
      ...summaryOf(r),
      ...(r.results_hidden && r.status === 'open' ? { results_hidden: true as const } : {}),
    }));
  }

  async getPoll(id: string): Promise<Poll | null> {
    const rows = await this.db.query<PollRow>(
      `select p.id, p.workspace, p.title, p.template, ${EFFECTIVE_STATUS} as status, p.created_at, p.closes_at,
         p.settings, p.decision,
         coalesce((select json_agg(json_build_object(
             'id', q.id, 'kind', q.kind, 'prompt', q.prompt, 'max_choices', q.max_choices,
             'options', coalesce((select json_agg(json_strip_nulls(json_build_object(
                 'id', o.id, 'label', o.label, 'label_en', o.label_en, 'place_id', o.place_id)) order by o.position, o.id)
               from options o where o.poll_id = p.id and o.question_id = q.id), '[]'::json)
           ) order by q.position) from questions q where q.poll_id = p.id), '[]'::json) as questions
       from polls p where p.id = $1`,
      [id],
    );
    const r = rows[0];
    if (!r) return null;
    return {
      ...summaryOf(r),
      settings: r.settings,
      questions: r.questions,
      ...(r.decision ? { decision: r.decision } : {}),
    };
  }

  async readTally(id: string): Promise<PollTally | null> {
    const rows = await this.db.query<{ t: TallyJson | null }>('select lv_tally($1) as t', [id]);
    return tallyOf(rows[0]?.t);
  }

  cast(cmd: CastCommand): Promise<CastOutcome> {
    return this.batcher.cast(cmd);
  }

  /**
   * One round trip: the casts commit, then their polls' tallies are read in a new transaction that sees that commit
   * (lv_cast_commit, or lv_cast_commit_one for a cast alone), so each accepted outcome carries the tally its snapshot
   * is built from.
   */
  private async castBatch(cmds: CastCommand[]): Promise<CastOutcome[]> {
    const [only] = cmds;
    if (only && cmds.length === 1 && !only.toggle) return [await this.retried(() => this.castOne(only))];
    // A toggle reads the ballot it changes, so it goes alone (lv_cast_toggle); the rest of the batch goes together.
    if (cmds.length > 1 && cmds.some((c) => c.toggle)) {
      const together = cmds.filter((c) => !c.toggle);
      const answers = new Map<CastCommand, CastOutcome>();
      const outcomes = together.length ? await this.castBatch(together) : [];
      for (const [i, o] of outcomes.entries()) answers.set(together[i] as CastCommand, o);
      for (const c of cmds.filter((x) => x.toggle))
        answers.set(c, (await this.castBatch([c]))[0] as CastOutcome);
      return cmds.map((c) => answers.get(c) as CastOutcome);
    }
    return this.retried(() => this.castMany(cmds));
  }

  /** Postgres rolled the whole transaction back on a deadlock or a serialization failure: running it again is safe. */
  private async retried<T>(run: () => Promise<T>, attempt = 1): Promise<T> {
    try {
      return await run();
    } catch (e) {
      const code = (e as { code?: string }).code;
      if (code && DEADLOCK_OR_SERIALIZATION.has(code) && attempt < 3) return this.retried(run, attempt + 1);
      throw e;
    }
  }

  private async castOne(c: CastCommand): Promise<CastOutcome> {
    const rows = await this.db.query<{ r: { outcome: CastRow; tally: TallyJson | null } }>(
      'call lv_cast_commit_one($1, $2, $3, $4, $5, $6, $7::text[], $8, $9::int, $10::boolean, $11, $12, null)',
      [
        c.pollId,
        c.questionId,
        c.voter.platform,
        c.voter.tenant,
        c.voter.user,
        c.voter.emp_no ?? null,
        c.optionIds,
        c.idempotencyKey ?? null,
        randomInt(SHARDS),
        this.audit,
        this.idempotencyTtl,
        this.pollKeys.setting([c.pollId]),
      ],
    );
    const r = rows[0]?.r;
    if (!r) throw new Error('lv_cast_commit_one answered nothing');
    return castOutcome(r.outcome, tallyOf(r.tally));
  }

  private async castMany(cmds: CastCommand[]): Promise<CastOutcome[]> {
    const casts = cmds.map((c) => ({
      poll: c.pollId,
      question: c.questionId,
      platform: c.voter.platform,
      tenant: c.voter.tenant,
      user: c.voter.user,
      emp: c.voter.emp_no ?? null,
      options: c.optionIds,
      key: c.idempotencyKey ?? null,
      ...(c.toggle ? { toggle: true } : {}),
    }));
    const rows = await this.db.query<{
      r: { outcomes: CastRow[]; tallies: Record<string, TallyJson | null> };
    }>('call lv_cast_commit($1::jsonb, $2::int, $3::boolean, $4, $5, null)', [
      JSON.stringify(casts),
      randomInt(SHARDS),
      this.audit,
      this.idempotencyTtl,
      this.pollKeys.setting(new Set(cmds.map((c) => c.pollId))),
    ]);
    const r = rows[0]?.r;
    if (!r || r.outcomes.length !== cmds.length) throw new Error('lv_cast_commit answered too few outcomes');
    // One object per poll: the casts of a batch share it, and so the one snapshot built from it (Snapshots.of).
    const tallies = new Map(Object.entries(r.tallies).map(([poll, t]) => [poll, tallyOf(t)]));
    return r.outcomes.map((row, i) => castOutcome(row, tallies.get(cmds[i]?.pollId ?? '')));
  }

  async closePoll(
    id: string,
    closedBy: string | null = null,
  ): Promise<{ ok: true; changed: boolean } | { ok: false; reason: 'unknown_poll' }> {
    return this.db.transaction(async (tx) => {
      const shards = await tx.query<{ shard: number }>(
        `update poll_shards set open = false, changes = changes + (shard = 0)::int
         where poll_id = $1 and open returning shard`,
        [id],
      );
      const polls = await tx.query<{ id: string }>(
        `update polls set status = 'closed', closed_at = coalesce(closed_at, now()) where id = $1 returning id`,
        [id],
      );
      if (polls.length === 0) return { ok: false, reason: 'unknown_poll' } as const;
      const changed = shards.length > 0;
      if (changed && this.audit) {
        await tx.query('select lv_audit($1, $2)', [
          id,
          JSON.stringify({ type: 'poll_closed', actor: closedBy }),
        ]);
        // The archive document is built when the drainer sends it, from what Postgres holds then.
        await tx.query(`insert into outbox (kind, poll_id, doc) values ('archive', $1, '{}')`, [id]);
      }
      return { ok: true, changed } as const;
    });
  }

  async revealResults(
    id: string,
    by: string,
  ): Promise<{ ok: true; changed: boolean } | { ok: false; reason: 'unknown_poll' }> {
    return this.db.transaction(async (tx) => {
      const revealed = await tx.query<{ id: string }>(
        `update polls set settings = jsonb_set(settings, '{results_hidden}', 'false')
         where id = $1 and coalesce((settings->>'results_hidden')::boolean, false) returning id`,
        [id],
      );
      if (revealed.length === 0) {
        const exists = await tx.query('select 1 from polls where id = $1', [id]);
        return exists.length === 0
          ? ({ ok: false, reason: 'unknown_poll' } as const)
          : ({ ok: true, changed: false } as const);
      }
      // The version moves, so every screen hears the change.
      await tx.query('update poll_shards set changes = changes + 1 where poll_id = $1 and shard = 0', [id]);
      if (this.audit)
        await tx.query('select lv_audit($1, $2)', [
          id,
          JSON.stringify({ type: 'results_revealed', actor: by }),
        ]);
      return { ok: true, changed: true } as const;
    });
  }

  async discardPoll(id: string, reason: string): Promise<boolean> {
    return this.db.transaction(async (tx) => {
      const gone = await tx.query<{ id: string }>(
        `delete from polls p where p.id = $1
           and not exists (select 1 from ballots b where b.poll_id = p.id)
           and not exists (select 1 from chat_messages m where m.poll_id = p.id)
         returning p.id`,
        [id],
      );
      if (gone.length === 0) return false;
      // lv_audit reads the poll, which is gone: the entry is written here (it names no voter).
      if (this.audit)
        await tx.query(
          `insert into outbox (kind, poll_id, doc)
           values ('audit', $1, $2::jsonb || jsonb_build_object('poll_id', $1::text, 'at', now()))`,
          [id, JSON.stringify({ type: 'poll_discarded', reason })],
        );
      return true;
    });
  }

  async closeDuePolls(): Promise<string[]> {
    const due = await this.db.query<{ id: string }>(
      `select id from polls where status = 'open' and closes_at <= now() order by closes_at limit 100`,
    );
    const closed: string[] = [];
    for (const { id } of due) {
      const r = await this.closePoll(id, 'schedule');
      if (r.ok && r.changed) closed.push(id);
    }
    return closed;
  }

  async addOption(
    pollId: string,
    questionId: string,
    label: string,
    addedBy: string,
  ): Promise<AddOptionOutcome> {
    return this.db
      .transaction(async (tx): Promise<AddOptionOutcome> => {
        const polls = await tx.query<{ status: string; settings: Poll['settings'] }>(
          `select ${EFFECTIVE_STATUS} as status, p.settings from polls p where p.id = $1`,
          [pollId],
        );
        const poll = polls[0];
        if (!poll) return { ok: false, reason: 'unknown_poll' };
        if (poll.status !== 'open') return { ok: false, reason: 'poll_closed' };
        if (!poll.settings.allow_add_options) return { ok: false, reason: 'adding_options_disabled' };
        const questions = await tx.query<{ kind: string }>(
          'select kind from questions where poll_id = $1 and id = $2',
          [pollId, questionId],
        );
        const kind = questions[0]?.kind;
        if (!kind) return { ok: false, reason: 'unknown_question' };
        // A menu belongs to a place; voters add places (or plain choices), not free-floating dishes.
        if (kind === 'menu') return { ok: false, reason: 'adding_options_disabled' };
        // Same gate as a vote: the shard row lock orders this against a concurrent close.
        const gate = await tx.query(
          'update poll_shards set changes = changes + 1 where poll_id = $1 and shard = 0 and open returning 1',
          [pollId],
        );
        if (gate.length === 0) return { ok: false, reason: 'poll_closed' };
        const inserted = await tx.query<{ id: string }>(
          `insert into options (poll_id, question_id, id, position, label, added_by)
         select $1, $2, 'x' || (count(*) + 1)::text, coalesce(max(position), -1) + 1, $3, $4
         from options where poll_id = $1
         on conflict do nothing returning id`,
          // An anonymous poll keeps no trace of who took part, this one included.
          [pollId, questionId, label.trim().replace(/\s+/g, ' '), poll.settings.anonymous ? null : addedBy],
        );
        const id = inserted[0]?.id;
        if (!id) throw new OptionExists();
        if (this.audit)
          await tx.query('select lv_audit($1, $2)', [
            pollId,
            JSON.stringify({
              type: 'option_added',
              actor: addedBy,
              question_id: questionId,
              option_id: id,
              label,
            }),
          ]);
        return { ok: true, optionId: id };
      })
      .catch((e: unknown) => {
        if (e instanceof OptionExists) return { ok: false, reason: 'option_exists' } as const;
        throw e;
      });
  }

  async exportBallots(pollId: string): Promise<BallotRow[]> {
    const rows = await this.db.query<{
      cast_at: Date;
      question_id: string;
      option_id: string;
      label: string;
      voter: string | null;
      platform: string | null;
    }>(
      `select b.cast_at, b.question_id, o.id as option_id, o.label,
         case when (p.settings->>'anonymous')::boolean then null else b.voter_key end as voter,
         case when (p.settings->>'anonymous')::boolean then null else b.platform end as platform
       from ballots b
       join polls p on p.id = b.poll_id
       cross join lateral unnest(b.option_ids) as x(option_id)
       join options o on o.poll_id = b.poll_id and o.id = x.option_id
       where b.poll_id = $1
       order by b.cast_at, b.question_id, o.position`,
      [pollId],
    );
    return rows.map((r) => ({
      cast_at: iso(r.cast_at) ?? '',
      question_id: r.question_id,
      option_id: r.option_id,
      label: r.label,
      ...(r.voter === null ? {} : { voter: r.voter }),
      ...(r.platform === null ? {} : { platform: r.platform }),
    }));
  }

  async replayOf(cmd: CastCommand): Promise<CastOutcome | null> {
    if (cmd.idempotencyKey === undefined) return null;
    const v = cmd.voter;
    // The key and voter as lv_cast stores them (hashed for an anonymous poll), and its fingerprint of the request.
    const rows = await this.db.query<{ outcome: CastRow; same: boolean }>(
      `select i.outcome, i.fingerprint = $1 || '|' || $2 || '|' || array_to_string($7::text[], ',') as same
       from (select case when coalesce((p.settings->>'anonymous')::boolean, false)
                 then lv_anon(p.id, 'voter', lv_voter_key($3, $4, $5, $6)) else lv_voter_key($3, $4, $5, $6) end as voter,
               case when coalesce((p.settings->>'anonymous')::boolean, false)
                 then lv_anon(p.id, 'key', $8) else $8 end as key
             from set_config('livevote.poll_keys', $9, true), polls p where p.id = $1) x
       join idempotency i on i.voter_key = x.voter and i.key = x.key
       where i.created_at > now() - $10::bigint * interval '1 millisecond'`,
      [
        cmd.pollId,
        cmd.questionId,
        v.platform,
        v.tenant,
        v.user,
        v.emp_no ?? null,
        // A toggle's fingerprint names its option, not a set (lv_cast_toggle).
        cmd.toggle ? cmd.optionIds.map((o) => `~${o}`) : cmd.optionIds,
        cmd.idempotencyKey,
        this.pollKeys.setting([cmd.pollId]),
        this.idempotencyTtl,
      ],
    );
    const r = rows[0];
    if (!r) return null;
    if (!r.same) return { ok: false, reason: 'idempotency_key_reused' };
    return toOutcome({ ...r.outcome, replayed: true });
  }

  async ballotsOf(pollId: string, voter: Voter): Promise<Record<string, string[]>> {
    // The voter's key as lv_cast stores it: after the directory, and hashed with the poll's key when anonymous.
    // lv_anon runs in the subquery's select list, so the setting (its FROM item) is in place when it reads it.
    const rows = await this.db.query<{ question_id: string; option_ids: string[] }>(
      `select question_id, option_ids from ballots where poll_id = $1 and voter_key = (
         select case when coalesce((p.settings->>'anonymous')::boolean, false)
             then lv_anon(p.id, 'voter', lv_voter_key($2, $3, $4, $5))
             else lv_voter_key($2, $3, $4, $5) end
         from set_config('livevote.poll_keys', $6, true), polls p where p.id = $1)`,
      [
        pollId,
        voter.platform,
        voter.tenant,
        voter.user,
        voter.emp_no ?? null,
        this.pollKeys.setting([pollId]),
      ],
    );
    return Object.fromEntries(rows.map((r) => [r.question_id, r.option_ids]));
  }

  async importDirectory(workspace: string, entries: DirectoryEntry[]): Promise<DirectoryImport> {
    if (entries.length === 0) return { imported: 0, skipped: 0, held_elsewhere: [] };
    // The outer select sees the directory as it was before the insert: a skipped row's holder.
    const rows = await this.db.query<{ n: number; given: number; held: DirectoryHeldElsewhere[] | null }>(
      `with input as (
         select distinct on (platform, tenant, user_id) platform, tenant, user_id, emp_no
         from jsonb_to_recordset($1::jsonb) as e(platform text, tenant text, user_id text, emp_no text)
       ), written as (
         insert into directory (platform, tenant, user_id, emp_no, workspace) select *, $2 from input
         on conflict (platform, tenant, user_id) do update set emp_no = excluded.emp_no
           where directory.workspace = excluded.workspace
         returning 1
       ) select (select count(*)::int from written) as n, (select count(*)::int from input) as given,
         (select jsonb_agg(h) from (
            select d.platform, d.tenant, d.user_id as "user", d.workspace from input i
            join directory d using (platform, tenant, user_id) where d.workspace <> $2
            order by 1, 2, 3 limit 100) h) as held`,
      [
        JSON.stringify(
          entries.map((e) => ({ platform: e.platform, tenant: e.tenant, user_id: e.user, emp_no: e.emp_no })),
        ),
        workspace,
      ],
    );
    const n = rows[0]?.n ?? 0;
    return { imported: n, skipped: (rows[0]?.given ?? 0) - n, held_elsewhere: rows[0]?.held ?? [] };
  }

  async directory(workspace: string): Promise<DirectoryEntry[]> {
    return this.db.query<DirectoryEntry>(
      `select platform, tenant, user_id as user, emp_no from directory where workspace = $1
       order by platform, tenant, user_id`,
      [workspace],
    );
  }

  async pollCreator(pollId: string): Promise<string | null> {
    const rows = await this.db.query<{ created_by: string | null }>(
      'select created_by from polls where id = $1',
      [pollId],
    );
    return rows[0]?.created_by ?? null;
  }

  async saveChatMessage(m: ChatMessage): Promise<void> {
    await this.db.query(
      `insert into chat_messages (platform, channel, message_id, poll_id, meta, workspace)
       select $1, $2, $3, $4, $5, p.workspace from polls p where p.id = $4
       on conflict (platform, channel, message_id) do update set meta = excluded.meta`,
      [m.platform, m.channel, m.message_id, m.poll_id, JSON.stringify(m.meta)],
    );
  }

  async chatMessages(pollId: string): Promise<ChatMessage[]> {
    return this.db.query<ChatMessage>(
      `select platform, channel, message_id, poll_id, meta from chat_messages
       where poll_id = $1 and gone_at is null order by created_at`,
      [pollId],
    );
  }

  async pollsWithLiveMessages(): Promise<string[]> {
    const rows = await this.db.query<{ poll_id: string }>(
      `select distinct m.poll_id from chat_messages m join polls p on p.id = m.poll_id
       where m.gone_at is null
         and (m.announced_at is null or (p.status = 'open' and (p.closes_at is null or p.closes_at > now())))`,
    );
    return rows.map((r) => r.poll_id);
  }

  async markMessageGone(m: ChatMessageKey, reason: string): Promise<boolean> {
    const rows = await this.db.query(
      `update chat_messages set gone_at = now(), gone_reason = $4
       where platform = $1 and channel = $2 and message_id = $3 and gone_at is null returning 1`,
      [m.platform, m.channel, m.message_id, reason.slice(0, 200)],
    );
    return rows.length === 1;
  }

  async claimMessageVersion(m: ChatMessageKey, version: number, owner: string): Promise<boolean> {
    const rows = await this.db.query(
      `update chat_messages c set sent_version = $4, sent_by = $5
       where c.platform = $1 and c.channel = $2 and c.message_id = $3 and c.gone_at is null
         and (c.sent_version < $4 or (c.sent_version = $4 and (c.sent_by = $5 or not exists (
           select 1 from delivery_leases l
           where l.poll_id = c.poll_id and l.owner = c.sent_by and l.expires_at > now())))) returning 1`,
      [m.platform, m.channel, m.message_id, version, owner],
    );
    return rows.length === 1;
  }

  async acquireDeliveryLeases(owner: string, pollIds: string[], ttlMs: number): Promise<string[]> {
    if (pollIds.length === 0) return [];
    const rows = await this.db.query<{ poll_id: string }>(
      `insert into delivery_leases (poll_id, owner, expires_at)
       select id, $1, now() + make_interval(secs => $3::float8 / 1000) from polls where id = any ($2::text[])
       on conflict (poll_id) do update set owner = excluded.owner, expires_at = excluded.expires_at
         where delivery_leases.owner = excluded.owner or delivery_leases.expires_at < now()
       returning poll_id`,
      [owner, pollIds, ttlMs],
    );
    return rows.map((r) => r.poll_id);
  }

  async releaseDeliveryLeases(owner: string, pollIds?: string[]): Promise<void> {
    await this.db.query(
      'delete from delivery_leases where owner = $1 and ($2::text[] is null or poll_id = any ($2::text[]))',
      [owner, pollIds ?? null],
    );
  }

  async claimAnnouncement(m: ChatMessageKey, owner: string): Promise<boolean> {
    const rows = await this.db.query(
      `update chat_messages c set announce_by = $4
       where c.platform = $1 and c.channel = $2 and c.message_id = $3 and c.announced_at is null
         and c.gone_at is null
         -- Only the poll's delivery lease holder claims: two processes racing to claim cannot both win.
         and exists (select 1 from delivery_leases m
           where m.poll_id = c.poll_id and m.owner = $4 and m.expires_at > now())
         and (c.announce_by is null or c.announce_by = $4 or not exists (
           select 1 from delivery_leases l
           where l.poll_id = c.poll_id and l.owner = c.announce_by and l.expires_at > now()))
       returning 1`,
      [m.platform, m.channel, m.message_id, owner],
    );
    return rows.length === 1;
  }

  async announcementMade(m: ChatMessageKey): Promise<void> {
    // Whoever holds the claim now: the reply is in the chat, so nobody may send it again.
    await this.db.query(
      `update chat_messages set announced_at = now()
       where platform = $1 and channel = $2 and message_id = $3 and announced_at is null`,
      [m.platform, m.channel, m.message_id],
    );
  }

  async saveConversation(c: ChatConversation): Promise<void> {
    await this.db.query(
      `insert into chat_conversations (platform, conversation_id, workspace, reference)
       values ($1, $2, $3, $4)
       on conflict (platform, conversation_id) do update
         set workspace = excluded.workspace, reference = excluded.reference, updated_at = now(), removed_at = null`,
      [c.platform, c.conversation_id, c.workspace, JSON.stringify(c.reference)],
    );
  }

  async conversation(platform: ChatConversation['platform'], id: string): Promise<ChatConversation | null> {
    const rows = await this.db.query<ChatConversation>(
      `select platform, conversation_id, workspace, reference from chat_conversations
       where platform = $1 and conversation_id = $2 and removed_at is null`,
      [platform, id],
    );
    return rows[0] ?? null;
  }

  async conversations(workspace: string): Promise<ChatConversation[]> {
    return this.db.query<ChatConversation>(
      `select platform, conversation_id, workspace, reference from chat_conversations
       where workspace = $1 and removed_at is null order by updated_at desc, conversation_id`,
      [workspace],
    );
  }

  async forgetConversation(platform: ChatConversation['platform'], id: string): Promise<void> {
    await this.db.query(
      `update chat_conversations set removed_at = now()
       where platform = $1 and conversation_id = $2 and removed_at is null`,
      [platform, id],
    );
  }

  async rememberCardUser(
    pollId: string,
    platform: ChatConversation['platform'],
    userRef: string,
    voted: boolean,
  ): Promise<void> {
    await this.db.query(
      `insert into chat_card_users (poll_id, platform, user_ref, voted) select $1, $2, $3, $4
       where exists (select 1 from polls where id = $1)
       on conflict (poll_id, platform, user_ref) do update
         set voted = chat_card_users.voted or excluded.voted, seen_at = now()`,
      [pollId, platform, userRef, voted],
    );
  }

  async cardUsers(pollId: string, platform: ChatConversation['platform'], limit: number): Promise<string[]> {
    const rows = await this.db.query<{ user_ref: string }>(
      `select user_ref from chat_card_users where poll_id = $1 and platform = $2
       order by voted desc, seen_at desc, user_ref limit $3`,
      [pollId, platform, limit],
    );
    return rows.map((r) => r.user_ref);
  }

  async votersByOption(pollId: string): Promise<Record<string, string[]>> {
    const rows = await this.db.query<{ option_id: string; voters: string[] }>(
      `select x.option_id, array_agg(b.voter_key order by b.cast_at) as voters
       from ballots b join polls p on p.id = b.poll_id
       cross join lateral unnest(b.option_ids) as x(option_id)
       where b.poll_id = $1 and not coalesce((p.settings->>'anonymous')::boolean, false)
       group by x.option_id`,
      [pollId],
    );
    return Object.fromEntries(rows.map((r) => [r.option_id, r.voters]));
  }

  async versions(pollIds: string[]): Promise<Map<string, number>> {
    const rows = await this.db.query<{ poll_id: string; version: number }>(
      'select poll_id, sum(changes)::int as version from poll_shards where poll_id = any ($1) group by poll_id',
      [pollIds],
    );
    return new Map(rows.map((r) => [r.poll_id, r.version]));
  }

  async ping(): Promise<void> {
    await this.db.query('select 1');
  }

  async leaseOutbox(limit: number, leaseMs: number): Promise<OutboxRow[]> {
    const rows = await this.db.query<Omit<OutboxRow, 'id' | 'created_at'> & { id: string; created_at: Date }>(
      `update outbox set locked_until = now() + $2 * interval '1 millisecond', attempts = attempts + 1
       where id in (
         select id from outbox where sent_at is null and (locked_until is null or locked_until < now())
           and parked_at is null
         order by id limit $1 for update skip locked)
       returning id, event_id, kind, poll_id, doc, created_at, attempts`,
      [limit, leaseMs],
    );
    return rows
      .map((r) => ({ ...r, id: Number(r.id), created_at: iso(r.created_at) ?? '' }))
      .sort((a, b) => a.id - b.id);
  }

  async outboxSent(ids: number[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.transaction(async (tx) => {
      const sent = await tx.query<{ kind: string; poll_id: string }>(
        'update outbox set sent_at = now(), locked_until = null where id = any ($1) returning kind, poll_id',
        [ids],
      );
      const archived = [...new Set(sent.filter((r) => r.kind === 'archive').map((r) => r.poll_id))];
      if (archived.length > 0)
        await tx.query('update polls set archived_at = now() where id = any ($1)', [archived]);
      // Once a poll is archived its history lives in the archive; delivered audit rows are no longer needed here.
      await tx.query(
        `delete from outbox o using polls p
         where o.poll_id = any ($1) and o.kind = 'audit' and o.sent_at is not null
           and p.id = o.poll_id and p.archived_at is not null`,
        [[...new Set(sent.map((r) => r.poll_id))]],
      );
    });
  }

  async outboxFailed(ids: number[], error: string, parkAfter?: number): Promise<number[]> {
    if (ids.length === 0) return [];
    if (parkAfter !== undefined) {
      const rows = await this.db.query<{ id: string; parked: boolean }>(
        `update outbox set locked_until = null, last_error = $2, refusals = refusals + 1,
           parked_at = case when refusals + 1 >= $3 then now() end
         where id = any ($1) and sent_at is null and parked_at is null
         returning id, parked_at is not null as parked`,
        [ids, error.slice(0, 1000), parkAfter],
      );
      return rows
        .filter((r) => r.parked)
        .map((r) => Number(r.id))
        .sort((x, y) => x - y);
    }
    await this.db.query('update outbox set locked_until = null, last_error = $2 where id = any ($1)', [
      ids,
      error.slice(0, 1000),
    ]);
    return [];
  }

  async outboxDepth(): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      'select count(*)::int as n from outbox where sent_at is null and parked_at is null',
    );
    return rows[0]?.n ?? 0;
  }

  async outboxParked(): Promise<number> {
    const rows = await this.db.query<{ n: number }>(
      'select count(*)::int as n from outbox where parked_at is not null and sent_at is null',
    );
    return rows[0]?.n ?? 0;
  }

  async retryParkedOutbox(ids?: number[]): Promise<number> {
    // last_error stays: it is what the archive said the last time, until the next attempt says otherwise.
    const rows = await this.db.query(
      `update outbox set parked_at = null, attempts = 0, refusals = 0
       where parked_at is not null and sent_at is null and ($1::bigint[] is null or id = any ($1))
       returning 1`,
      [ids ?? null],
    );
    return rows.length;
  }

  async auditTrail(pollId: string): Promise<Record<string, unknown>[]> {
    const rows = await this.db.query<{ doc: Record<string, unknown> }>(
      `select doc || jsonb_build_object('event_id', event_id) as doc from outbox
       where poll_id = $1 and kind = 'audit' order by id`,
      [pollId],
    );
    return rows.map((r) => r.doc);
  }

  async purgeIdempotency(olderThanMs: number): Promise<number> {
    let purged = 0;
    for (;;) {
      // skip locked: a key a cast is replacing right now, or another instance is purging, is left to them.
      const rows = await this.db.query<{ n: number }>(
        `with old as (
           select voter_key, key from idempotency where created_at < now() - $1 * interval '1 millisecond'
           limit $2 for update skip locked
         ), gone as (
           delete from idempotency i using old where i.voter_key = old.voter_key and i.key = old.key returning 1
         ) select count(*)::int as n from gone`,
        [olderThanMs, PURGE_BATCH],
      );
      const n = rows[0]?.n ?? 0;
      purged += n;
      if (n < PURGE_BATCH) return purged;
    }
  }
}

class OptionExists extends Error {}
