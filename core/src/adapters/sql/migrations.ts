// Versioned schema migrations, applied in order at start under an advisory lock (safe to run twice, or from two
// processes at once). Never edit a shipped migration: add the next one. (No release has shipped yet, so the
// audit outbox was folded into migrations 1 and 2 rather than layered on top.)
import { ANON_PREFIX, type PollKeys } from './anonymity.ts';
import type { SqlTx } from './sql-driver.ts';

/** What a migration may need beyond the database: secrets that must never be stored in it. */
export interface MigrationContext {
  /** Derives the keys of anonymous polls from the server's anonymity key (ANONYMITY_KEY). */
  pollKeys?: PollKeys;
}

export interface Migration {
  version: number;
  name: string;
  sql: string;
  /** Runs after `sql`, in the same transaction, for what needs this process (a secret) rather than SQL alone. */
  after?: (tx: SqlTx, ctx: MigrationContext) => Promise<void>;
}

/** Tally rows and version counters are spread over this many shards so a hot poll doesn't queue on one row. */
export const SHARDS = 16;

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'polls, ballots, sharded tallies, idempotency, directory, audit outbox',
    sql: `
create table polls (
  id          text primary key,
  title       text not null,
  template    text not null check (template in ('lunch', 'choice')),
  status      text not null default 'open' check (status in ('open', 'closed')),
  settings    jsonb not null,
  created_by  text,
  created_at  timestamptz not null default now(),
  closes_at   timestamptz,
  closed_at   timestamptz,
  -- Set when the closed poll's archive document reached the archive (MongoDB).
  archived_at timestamptz
);
create index polls_recent on polls (created_at desc);
create index polls_due on polls (closes_at) where status = 'open' and closes_at is not null;

create table questions (
  poll_id      text not null references polls (id) on delete cascade,
  id           text not null,
  position     int not null,
  kind         text not null check (kind in ('place', 'menu', 'choice')),
  prompt       text not null,
  max_choices  int not null check (max_choices >= 1),
  primary key (poll_id, id)
);

create table options (
  poll_id      text not null,
  question_id  text not null,
  id           text not null,
  position     int not null,
  label        text not null,
  label_en     text,
  place_id     text,
  added_by     text,
  primary key (poll_id, id),
  foreign key (poll_id, question_id) references questions (poll_id, id) on delete cascade
);
create unique index options_label on options (poll_id, question_id, coalesce(place_id, ''), lower(label));

-- One row per poll and shard: the gate every change passes (open), the version (sum of changes) and the number of
-- voters. A vote locks one random shard, so concurrent votes on a hot poll rarely wait for each other.
create table poll_shards (
  poll_id  text not null references polls (id) on delete cascade,
  shard    smallint not null,
  open     boolean not null default true,
  changes  bigint not null default 0,
  voters   bigint not null default 0,
  primary key (poll_id, shard)
);

-- Sharded counters: key is an option id (votes) or '#<question id>' (ballots in that question).
create table tally (
  poll_id  text not null references polls (id) on delete cascade,
  key      text not null,
  shard    smallint not null,
  n        bigint not null,
  primary key (poll_id, key, shard)
);

create table ballots (
  poll_id      text not null references polls (id) on delete cascade,
  voter_key    text not null,
  question_id  text not null,
  option_ids   text[] not null,
  platform     text not null,
  cast_at      timestamptz not null default now(),
  primary key (poll_id, voter_key, question_id)
);

create table idempotency (
  voter_key    text not null,
  key          text not null,
  poll_id      text not null,
  fingerprint  text not null,
  outcome      jsonb not null,
  created_at   timestamptz not null default now(),
  primary key (voter_key, key)
);
create index idempotency_age on idempotency (created_at);

-- Several platform identities of one person map to one employee number: one vote wherever they click.
create table directory (
  platform  text not null check (platform in ('web', 'slack', 'teams')),
  tenant    text not null default '',
  user_id   text not null,
  emp_no    text not null,
  primary key (platform, tenant, user_id)
);

-- What MongoDB will hold (audit log, closed-poll archive), written in the same transaction as the change it records,
-- so an archive outage loses nothing and never slows a vote. A drainer sends pending rows in batches; audit rows
-- stay (sent) until their poll is archived because the archive's history is replayed from them, then are purged.
-- Written only when an archive is configured (p_audit), since otherwise nothing would ever deliver or purge them.
create table outbox (
  id            bigint generated always as identity primary key,
  event_id      uuid not null default gen_random_uuid(),
  kind          text not null check (kind in ('audit', 'archive')),
  poll_id       text not null,
  doc           jsonb not null,
  created_at    timestamptz not null default now(),
  sent_at       timestamptz,
  attempts      int not null default 0,
  -- A drainer leases rows while it sends them; a crashed drainer's rows come back when the lease ends.
  locked_until  timestamptz,
  last_error    text
);
create index outbox_pending on outbox (id) where sent_at is null;
create index outbox_poll_audit on outbox (poll_id, id) where kind = 'audit';

-- An audit row for changes made outside lv_cast (poll created, option added, poll closed). Anonymous polls never
-- name a person (voter or actor), not even in the audit log. plpgsql, not sql: its plan is cached per session.
create function lv_audit(p_poll text, p_doc jsonb) returns void language plpgsql as $fn$
begin
  insert into outbox (kind, poll_id, doc)
  select 'audit', p_poll, case when coalesce((p.settings->>'anonymous')::boolean, false)
      then p_doc - 'voter' - 'actor' else p_doc end || jsonb_build_object('poll_id', p_poll, 'at', now())
  from polls p where p.id = p_poll;
end
$fn$;

create function lv_voter_key(p_platform text, p_tenant text, p_user text, p_emp text) returns text
language sql stable as $fn$
  select case
    when p_emp is not null then 'emp:' || p_emp
    else coalesce(
      (select 'emp:' || d.emp_no from directory d
        where d.platform = p_platform and d.tenant = p_tenant and d.user_id = p_user),
      p_platform || ':' || p_tenant || ':' || p_user)
  end
$fn$;

-- Casts (or, with no options, retracts) one ballot in one round trip. Expected refusals come back as
-- {"ok":false,"reason":...} with nothing changed; only broken infrastructure raises. With p_audit, an accepted
-- interaction also writes its audit row (with the previous choice) to the outbox, in the same transaction.
create function lv_cast(
  p_poll text, p_question text, p_platform text, p_tenant text, p_user text, p_emp text,
  p_options text[], p_key text, p_shard int, p_audit boolean
) returns jsonb language plpgsql as $fn$
declare
  v_voter text := lv_voter_key(p_platform, p_tenant, p_user, p_emp);
  v_fp text;
  v_status text;
  v_closes timestamptz;
  v_max int;
  v_anonymous boolean;
  v_prev text[];
  -- Callers send choices sorted (checkBallot does); sorting here too keeps a ballot's identity exact regardless.
  v_new text[] := case when cardinality(p_options) <= 1 then coalesce(p_options, '{}')
    else (select array_agg(o order by o) from unnest(p_options) o) end;
  v_others int;
  v_dv int := 0;
  v_out jsonb;
  v_stored record;
begin
  v_fp := p_poll || '|' || p_question || '|' || array_to_string(v_new, ',');
  -- Serialises one voter's changes in one poll (both questions), without touching any shared row.
  perform pg_advisory_xact_lock(hashtextextended(p_poll || chr(31) || v_voter, 0));

  if p_key is not null then
    select fingerprint, outcome into v_stored from idempotency where voter_key = v_voter and key = p_key;
    if found then
      if v_stored.fingerprint <> v_fp then
        return jsonb_build_object('ok', false, 'reason', 'idempotency_key_reused');
      end if;
      return v_stored.outcome || jsonb_build_object('replayed', true);
    end if;
  end if;

  select p.status, p.closes_at, q.max_choices, coalesce((p.settings->>'anonymous')::boolean, false)
    into v_status, v_closes, v_max, v_anonymous
    from polls p left join questions q on q.poll_id = p.id and q.id = p_question where p.id = p_poll;
  if not found then return jsonb_build_object('ok', false, 'reason', 'unknown_poll'); end if;
  if v_status <> 'open' or v_closes <= now() then
    return jsonb_build_object('ok', false, 'reason', 'poll_closed');
  end if;
  if v_max is null then return jsonb_build_object('ok', false, 'reason', 'unknown_question'); end if;
  if cardinality(v_new) > 0 then
    -- Option rows are never deleted, so this check cannot go stale before commit.
    if (select count(*) from options where poll_id = p_poll and question_id = p_question and id = any (v_new))
        <> cardinality(v_new) then
      if (select count(distinct o) from unnest(v_new) o) <> cardinality(v_new) then
        return jsonb_build_object('ok', false, 'reason', 'duplicate_option');
      end if;
      return jsonb_build_object('ok', false, 'reason', 'unknown_option');
    end if;
    if cardinality(v_new) > v_max then
      return jsonb_build_object('ok', false, 'reason', 'too_many_choices');
    end if;
  end if;

  select option_ids into v_prev from ballots
    where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
  v_out := jsonb_build_object('ok', true, 'replayed', false, 'option_ids', to_jsonb(v_new));

  if coalesce(v_prev, '{}') = v_new then
    v_out := v_out || jsonb_build_object('changed', false);
  else
    if v_prev is null or cardinality(v_new) = 0 then
      select count(*) into v_others from ballots
        where poll_id = p_poll and voter_key = v_voter and question_id <> p_question;
      if v_others = 0 then v_dv := case when v_prev is null then 1 else -1 end; end if;
    end if;
    -- The gate: closing a poll flips every shard's open flag under the same row locks, so no vote slips past a close.
    update poll_shards set changes = changes + 1, voters = voters + v_dv
      where poll_id = p_poll and shard = p_shard and open;
    if not found then return jsonb_build_object('ok', false, 'reason', 'poll_closed'); end if;

    if cardinality(v_new) = 0 then
      delete from ballots where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
    else
      insert into ballots (poll_id, voter_key, question_id, option_ids, platform)
        values (p_poll, v_voter, p_question, v_new, p_platform)
        on conflict (poll_id, voter_key, question_id)
        do update set option_ids = excluded.option_ids, platform = excluded.platform, cast_at = now();
    end if;

    insert into tally (poll_id, key, shard, n)
      select p_poll, d.key, p_shard, sum(d.delta) from (
        select o as key, -1 as delta from unnest(coalesce(v_prev, '{}')) o
        union all select o, 1 from unnest(v_new) o
        union all select '#' || p_question, case when v_prev is null then 1 else -1 end
          where v_prev is null or cardinality(v_new) = 0
      ) d group by d.key having sum(d.delta) <> 0 order by d.key
      on conflict (poll_id, key, shard) do update set n = tally.n + excluded.n;
    v_out := v_out || jsonb_build_object('changed', true);
  end if;

  if p_audit then
    insert into outbox (kind, poll_id, doc) values ('audit', p_poll, jsonb_build_object(
      'type', case when cardinality(v_new) = 0 then 'retract' else 'vote' end,
      'poll_id', p_poll,
      'at', now(),
      'question_id', p_question,
      'option_ids', to_jsonb(v_new),
      'previous_option_ids', to_jsonb(coalesce(v_prev, '{}')),
      'changed', v_out->'changed',
      'platform', p_platform,
      'delivery_id', p_key)
      || case when v_anonymous then '{}'::jsonb else jsonb_build_object('voter', v_voter) end);
  end if;

  if p_key is not null then
    insert into idempotency (voter_key, key, poll_id, fingerprint, outcome)
      values (v_voter, p_key, p_poll, v_fp, v_out);
  end if;
  return v_out;
end
$fn$;
`,
  },
  {
    version: 2,
    name: 'lv_cast_batch: many casts in one transaction',
    sql: `
-- Group commit: one transaction (one round trip, one WAL flush) for the casts that queued up while others were in
-- flight. Every voter lock is taken first, in one global order, so two batches can never wait on each other in a
-- cycle; then each cast runs exactly as alone (its own refusals are values, so one bad ballot spoils no other).
create function lv_cast_batch(p_casts jsonb, p_shard int, p_audit boolean) returns jsonb language plpgsql as $fn$
declare
  v_out jsonb := '[]'::jsonb;
  c jsonb;
begin
  perform pg_advisory_xact_lock(k) from (
    select distinct hashtextextended(x->>'poll' || chr(31)
      || lv_voter_key(x->>'platform', x->>'tenant', x->>'user', x->>'emp'), 0) as k
    from jsonb_array_elements(p_casts) x order by 1
  ) keys;
  for c in select * from jsonb_array_elements(p_casts) loop
    v_out := v_out || jsonb_build_array(lv_cast(
      c->>'poll', c->>'question', c->>'platform', c->>'tenant', c->>'user', c->>'emp',
      array(select jsonb_array_elements_text(c->'options')), c->>'key', p_shard, p_audit));
  end loop;
  return v_out;
end
$fn$;
`,
  },
  {
    version: 3,
    name: 'chat messages that show a poll (Slack, Teams)',
    sql: `
-- Every tally message posted in a chat, so any bot process (or the next one after a restart) keeps it current.
create table chat_messages (
  platform      text not null check (platform in ('slack', 'teams')),
  channel       text not null,
  message_id    text not null,
  poll_id       text not null references polls (id) on delete cascade,
  -- Slack: the team; Teams: serviceUrl and conversation details needed to update the activity.
  meta          jsonb not null default '{}',
  announced_at  timestamptz,
  created_at    timestamptz not null default now(),
  primary key (platform, channel, message_id)
);
create index chat_messages_poll on chat_messages (poll_id);
`,
  },
  {
    version: 4,
    name: 'workspaces: every poll, chat message and directory entry belongs to one',
    sql: `
-- A workspace is 'slack:<team or enterprise id>', 'teams:<tenant id>' or 'web'. Existing rows move to the workspace
-- their creator came from: chat-created polls name it in created_by ('slack:T…:U…', 'teams:<tenant>:<user>').
alter table polls add column workspace text;
update polls set workspace = case
  when created_by like 'slack:_%:%' then 'slack:' || split_part(created_by, ':', 2)
  when created_by like 'teams:_%:%' then 'teams:' || split_part(created_by, ':', 2)
  else 'web' end;
alter table polls alter column workspace set not null;
create index polls_workspace_recent on polls (workspace, created_at desc);

alter table chat_messages add column workspace text;
update chat_messages m set workspace = p.workspace from polls p where p.id = m.poll_id;
alter table chat_messages alter column workspace set not null;
create index chat_messages_open on chat_messages (poll_id) where announced_at is null;

-- A directory entry is imported into one workspace and listed only there. The platform identity stays the key:
-- one identity maps to one employee number.
alter table directory add column workspace text;
update directory set workspace = case platform
  when 'slack' then 'slack:' || tenant when 'teams' then 'teams:' || tenant else 'web' end;
alter table directory alter column workspace set not null;
create index directory_workspace on directory (workspace, platform, tenant, user_id);
`,
  },
  {
    version: 5,
    name: 'idempotency keys expire; outbox rows the archive keeps refusing are parked',
    sql: `
-- lv_cast as in migration 1, except that a key older than the TTL no longer replays: it is deleted and the cast
-- runs as new. Replays then never depend on when the purge job last ran.
create or replace function lv_cast(
  p_poll text, p_question text, p_platform text, p_tenant text, p_user text, p_emp text,
  p_options text[], p_key text, p_shard int, p_audit boolean
) returns jsonb language plpgsql as $fn$
declare
  v_voter text := lv_voter_key(p_platform, p_tenant, p_user, p_emp);
  -- The caller passes the TTL as a transaction-local setting (see SqlStore); 24 hours when it doesn't.
  v_ttl interval := coalesce(nullif(current_setting('livevote.idempotency_ttl_ms', true), '')::bigint, 86400000)
    * interval '1 millisecond';
  v_fp text;
  v_status text;
  v_closes timestamptz;
  v_max int;
  v_anonymous boolean;
  v_prev text[];
  -- Callers send choices sorted (checkBallot does); sorting here too keeps a ballot's identity exact regardless.
  v_new text[] := case when cardinality(p_options) <= 1 then coalesce(p_options, '{}')
    else (select array_agg(o order by o) from unnest(p_options) o) end;
  v_others int;
  v_dv int := 0;
  v_out jsonb;
  v_stored record;
begin
  v_fp := p_poll || '|' || p_question || '|' || array_to_string(v_new, ',');
  -- Serialises one voter's changes in one poll (both questions), without touching any shared row.
  perform pg_advisory_xact_lock(hashtextextended(p_poll || chr(31) || v_voter, 0));

  if p_key is not null then
    select fingerprint, outcome, created_at into v_stored
      from idempotency where voter_key = v_voter and key = p_key;
    if found then
      if v_stored.created_at > now() - v_ttl then
        if v_stored.fingerprint <> v_fp then
          return jsonb_build_object('ok', false, 'reason', 'idempotency_key_reused');
        end if;
        return v_stored.outcome || jsonb_build_object('replayed', true);
      end if;
      -- Expired: the key is new again, whether or not the purge job has run yet.
      delete from idempotency where voter_key = v_voter and key = p_key;
    end if;
  end if;

  select p.status, p.closes_at, q.max_choices, coalesce((p.settings->>'anonymous')::boolean, false)
    into v_status, v_closes, v_max, v_anonymous
    from polls p left join questions q on q.poll_id = p.id and q.id = p_question where p.id = p_poll;
  if not found then return jsonb_build_object('ok', false, 'reason', 'unknown_poll'); end if;
  if v_status <> 'open' or v_closes <= now() then
    return jsonb_build_object('ok', false, 'reason', 'poll_closed');
  end if;
  if v_max is null then return jsonb_build_object('ok', false, 'reason', 'unknown_question'); end if;
  if cardinality(v_new) > 0 then
    -- Option rows are never deleted, so this check cannot go stale before commit.
    if (select count(*) from options where poll_id = p_poll and question_id = p_question and id = any (v_new))
        <> cardinality(v_new) then
      if (select count(distinct o) from unnest(v_new) o) <> cardinality(v_new) then
        return jsonb_build_object('ok', false, 'reason', 'duplicate_option');
      end if;
      return jsonb_build_object('ok', false, 'reason', 'unknown_option');
    end if;
    if cardinality(v_new) > v_max then
      return jsonb_build_object('ok', false, 'reason', 'too_many_choices');
    end if;
  end if;

  select option_ids into v_prev from ballots
    where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
  v_out := jsonb_build_object('ok', true, 'replayed', false, 'option_ids', to_jsonb(v_new));

  if coalesce(v_prev, '{}') = v_new then
    v_out := v_out || jsonb_build_object('changed', false);
  else
    if v_prev is null or cardinality(v_new) = 0 then
      select count(*) into v_others from ballots
        where poll_id = p_poll and voter_key = v_voter and question_id <> p_question;
      if v_others = 0 then v_dv := case when v_prev is null then 1 else -1 end; end if;
    end if;
    -- The gate: closing a poll flips every shard's open flag under the same row locks, so no vote slips past a close.
    update poll_shards set changes = changes + 1, voters = voters + v_dv
      where poll_id = p_poll and shard = p_shard and open;
    if not found then return jsonb_build_object('ok', false, 'reason', 'poll_closed'); end if;

    if cardinality(v_new) = 0 then
      delete from ballots where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
    else
      insert into ballots (poll_id, voter_key, question_id, option_ids, platform)
        values (p_poll, v_voter, p_question, v_new, p_platform)
        on conflict (poll_id, voter_key, question_id)
        do update set option_ids = excluded.option_ids, platform = excluded.platform, cast_at = now();
    end if;

    insert into tally (poll_id, key, shard, n)
      select p_poll, d.key, p_shard, sum(d.delta) from (
        select o as key, -1 as delta from unnest(coalesce(v_prev, '{}')) o
        union all select o, 1 from unnest(v_new) o
        union all select '#' || p_question, case when v_prev is null then 1 else -1 end
          where v_prev is null or cardinality(v_new) = 0
      ) d group by d.key having sum(d.delta) <> 0 order by d.key
      on conflict (poll_id, key, shard) do update set n = tally.n + excluded.n;
    v_out := v_out || jsonb_build_object('changed', true);
  end if;

  if p_audit then
    insert into outbox (kind, poll_id, doc) values ('audit', p_poll, jsonb_build_object(
      'type', case when cardinality(v_new) = 0 then 'retract' else 'vote' end,
      'poll_id', p_poll,
      'at', now(),
      'question_id', p_question,
      'option_ids', to_jsonb(v_new),
      'previous_option_ids', to_jsonb(coalesce(v_prev, '{}')),
      'changed', v_out->'changed',
      'platform', p_platform,
      'delivery_id', p_key)
      || case when v_anonymous then '{}'::jsonb else jsonb_build_object('voter', v_voter) end);
  end if;

  if p_key is not null then
    insert into idempotency (voter_key, key, poll_id, fingerprint, outcome)
      values (v_voter, p_key, p_poll, v_fp, v_out);
  end if;
  return v_out;
end
$fn$;

-- Rows the archive refused on their own (not during an outage), and when one was set aside for good after too
-- many refusals. A parked row keeps its last_error, is never leased and no longer counts as pending; an operator
-- sends it again with: livevote outbox-retry.
alter table outbox add column refusals int not null default 0;
alter table outbox add column parked_at timestamptz;
create index outbox_parked on outbox (id) where parked_at is not null and sent_at is null;
`,
  },
  {
    version: 6,
    name: 'anonymous polls store keyed hashes, not voters or delivery ids; show_turnout',
    sql: `
-- The stored form of a value of an anonymous poll: 'anon:' || hex(HMAC-SHA256(k_poll, kind || chr(31) || value)).
-- The caller passes each poll's key as its HMAC pads (inner || outer, 128 bytes, hex) in the transaction-local
-- setting livevote.poll_keys ({"<poll id>": "<hex>"}): Postgres has sha256() but no hmac() without pgcrypto, and
-- the server's secret stays out of the database (see anonymity.ts). Without a key the cast fails rather than store
-- who voted.
create function lv_anon(p_poll text, p_kind text, p_value text) returns text language plpgsql stable as $fn$
declare
  v_pads bytea := decode(
    coalesce(nullif(current_setting('livevote.poll_keys', true), ''), '{}')::jsonb ->> p_poll, 'hex');
begin
  if v_pads is null or length(v_pads) <> 128 then
    raise exception 'lv_anon: no anonymity key was given for poll %', p_poll;
  end if;
  return '${ANON_PREFIX}' || encode(sha256(substring(v_pads from 65 for 64)
    || sha256(substring(v_pads from 1 for 64) || convert_to(p_kind || chr(31) || p_value, 'UTF8'))), 'hex');
end
$fn$;

-- lv_cast as in migration 5, except for anonymous polls: the ballot and the idempotency row hold lv_anon of the
-- voter key (after the directory, so one person keeps one vote) and of the idempotency key (a Slack delivery id
-- names the user), and the audit row names neither voter nor delivery id. The poll is read before the
-- idempotency lookup, which needs to know how the key is stored; a replay still answers before any refusal.
create or replace function lv_cast(
  p_poll text, p_question text, p_platform text, p_tenant text, p_user text, p_emp text,
  p_options text[], p_key text, p_shard int, p_audit boolean
) returns jsonb language plpgsql as $fn$
declare
  -- The person, after the directory. Their lock is taken on it (as lv_cast_batch does, before any cast); a lock
  -- is held in memory for the transaction only, never stored.
  v_person text := lv_voter_key(p_platform, p_tenant, p_user, p_emp);
  -- What the rows hold: v_person and p_key, or their keyed hashes in an anonymous poll.
  v_voter text;
  v_key text;
  -- The caller passes the TTL as a transaction-local setting (see SqlStore); 24 hours when it doesn't.
  v_ttl interval := coalesce(nullif(current_setting('livevote.idempotency_ttl_ms', true), '')::bigint, 86400000)
    * interval '1 millisecond';
  v_fp text;
  v_found boolean;
  v_status text;
  v_closes timestamptz;
  v_max int;
  v_anonymous boolean;
  v_prev text[];
  -- Callers send choices sorted (checkBallot does); sorting here too keeps a ballot's identity exact regardless.
  v_new text[] := case when cardinality(p_options) <= 1 then coalesce(p_options, '{}')
    else (select array_agg(o order by o) from unnest(p_options) o) end;
  v_others int;
  v_dv int := 0;
  v_out jsonb;
  v_stored record;
begin
  v_fp := p_poll || '|' || p_question || '|' || array_to_string(v_new, ',');
  -- Serialises one voter's changes in one poll (both questions), without touching any shared row.
  perform pg_advisory_xact_lock(hashtextextended(p_poll || chr(31) || v_person, 0));

  select p.status, p.closes_at, q.max_choices, coalesce((p.settings->>'anonymous')::boolean, false)
    into v_status, v_closes, v_max, v_anonymous
    from polls p left join questions q on q.poll_id = p.id and q.id = p_question where p.id = p_poll;
  v_found := found;
  if coalesce(v_anonymous, false) then
    v_voter := lv_anon(p_poll, 'voter', v_person);
    v_key := case when p_key is not null then lv_anon(p_poll, 'key', p_key) end;
  else
    v_anonymous := false;
    v_voter := v_person;
    v_key := p_key;
  end if;

  if v_key is not null then
    select fingerprint, outcome, created_at into v_stored
      from idempotency where voter_key = v_voter and key = v_key;
    if found then
      if v_stored.created_at > now() - v_ttl then
        if v_stored.fingerprint <> v_fp then
          return jsonb_build_object('ok', false, 'reason', 'idempotency_key_reused');
        end if;
        return v_stored.outcome || jsonb_build_object('replayed', true);
      end if;
      -- Expired: the key is new again, whether or not the purge job has run yet.
      delete from idempotency where voter_key = v_voter and key = v_key;
    end if;
  end if;

  if not v_found then return jsonb_build_object('ok', false, 'reason', 'unknown_poll'); end if;
  if v_status <> 'open' or v_closes <= now() then
    return jsonb_build_object('ok', false, 'reason', 'poll_closed');
  end if;
  if v_max is null then return jsonb_build_object('ok', false, 'reason', 'unknown_question'); end if;
  if cardinality(v_new) > 0 then
    -- Option rows are never deleted, so this check cannot go stale before commit.
    if (select count(*) from options where poll_id = p_poll and question_id = p_question and id = any (v_new))
        <> cardinality(v_new) then
      if (select count(distinct o) from unnest(v_new) o) <> cardinality(v_new) then
        return jsonb_build_object('ok', false, 'reason', 'duplicate_option');
      end if;
      return jsonb_build_object('ok', false, 'reason', 'unknown_option');
    end if;
    if cardinality(v_new) > v_max then
      return jsonb_build_object('ok', false, 'reason', 'too_many_choices');
    end if;
  end if;

  select option_ids into v_prev from ballots
    where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
  v_out := jsonb_build_object('ok', true, 'replayed', false, 'option_ids', to_jsonb(v_new));

  if coalesce(v_prev, '{}') = v_new then
    v_out := v_out || jsonb_build_object('changed', false);
  else
    if v_prev is null or cardinality(v_new) = 0 then
      select count(*) into v_others from ballots
        where poll_id = p_poll and voter_key = v_voter and question_id <> p_question;
      if v_others = 0 then v_dv := case when v_prev is null then 1 else -1 end; end if;
    end if;
    -- The gate: closing a poll flips every shard's open flag under the same row locks, so no vote slips past a close.
    update poll_shards set changes = changes + 1, voters = voters + v_dv
      where poll_id = p_poll and shard = p_shard and open;
    if not found then return jsonb_build_object('ok', false, 'reason', 'poll_closed'); end if;

    if cardinality(v_new) = 0 then
      delete from ballots where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
    else
      insert into ballots (poll_id, voter_key, question_id, option_ids, platform)
        values (p_poll, v_voter, p_question, v_new, p_platform)
        on conflict (poll_id, voter_key, question_id)
        do update set option_ids = excluded.option_ids, platform = excluded.platform, cast_at = now();
    end if;

    insert into tally (poll_id, key, shard, n)
      select p_poll, d.key, p_shard, sum(d.delta) from (
        select o as key, -1 as delta from unnest(coalesce(v_prev, '{}')) o
        union all select o, 1 from unnest(v_new) o
        union all select '#' || p_question, case when v_prev is null then 1 else -1 end
          where v_prev is null or cardinality(v_new) = 0
      ) d group by d.key having sum(d.delta) <> 0 order by d.key
      on conflict (poll_id, key, shard) do update set n = tally.n + excluded.n;
    v_out := v_out || jsonb_build_object('changed', true);
  end if;

  if p_audit then
    insert into outbox (kind, poll_id, doc) values ('audit', p_poll, jsonb_build_object(
      'type', case when cardinality(v_new) = 0 then 'retract' else 'vote' end,
      'poll_id', p_poll,
      'at', now(),
      'question_id', p_question,
      'option_ids', to_jsonb(v_new),
      'previous_option_ids', to_jsonb(coalesce(v_prev, '{}')),
      'changed', v_out->'changed',
      'platform', p_platform)
      || case when v_anonymous then '{}'::jsonb
        else jsonb_build_object('voter', v_voter, 'delivery_id', p_key) end);
  end if;

  if v_key is not null then
    insert into idempotency (voter_key, key, poll_id, fingerprint, outcome)
      values (v_voter, v_key, p_poll, v_fp, v_out);
  end if;
  return v_out;
end
$fn$;

-- What anonymous polls already hold that names a person and is needed for nothing: who added an option, and the
-- audit rows' delivery ids (their voter and actor were never written). Their ballots and idempotency rows are
-- hashed after this script (see after), with the key this process holds.
update options o set added_by = null from polls p
  where p.id = o.poll_id and coalesce((p.settings->>'anonymous')::boolean, false) and o.added_by is not null;
update outbox o set doc = o.doc - 'delivery_id' - 'voter' - 'actor' from polls p
  where p.id = o.poll_id and o.kind = 'audit' and coalesce((p.settings->>'anonymous')::boolean, false)
    and (o.doc ? 'delivery_id' or o.doc ? 'voter' or o.doc ? 'actor');

-- A new setting: whether a poll that hides its results still shows how many have voted. Off for every poll so far.
update polls set settings = settings || '{"show_turnout": false}'::jsonb where not settings ? 'show_turnout';
`,
    async after(tx, ctx) {
      const legacy = await tx.query<{ id: string }>(
        `select p.id from polls p
         where coalesce((p.settings->>'anonymous')::boolean, false) and (
           exists (select 1 from ballots b where b.poll_id = p.id and b.voter_key not like '${ANON_PREFIX}%')
           or exists (select 1 from idempotency i where i.poll_id = p.id and i.voter_key not like '${ANON_PREFIX}%'))`,
      );
      if (legacy.length === 0) return;
      if (!ctx.pollKeys)
        throw new Error(
          `migration 6 hashes the voter keys of ${legacy.length} existing anonymous poll(s) and needs the anonymity key`,
        );
      const ids = legacy.map((r) => r.id);
      await tx.query(`select set_config('livevote.poll_keys', $1, true)`, [ctx.pollKeys.setting(ids)]);
      await tx.query(
        `update ballots set voter_key = lv_anon(poll_id, 'voter', voter_key)
         where poll_id = any ($1) and voter_key not like '${ANON_PREFIX}%'`,
        [ids],
      );
      await tx.query(
        `update idempotency set voter_key = lv_anon(poll_id, 'voter', voter_key), key = lv_anon(poll_id, 'key', key)
         where poll_id = any ($1) and voter_key not like '${ANON_PREFIX}%'`,
        [ids],
      );
    },
  },
  {
    version: 7,
    name: 'chat delivery: messages gone for good, the version each message last showed, leases per poll',
    sql: `
-- A message the platform refused for good (archived channel, bot removed, token revoked) is marked gone: nobody
-- updates it again and its creator is told once. sent_version/sent_by fence updates between bot processes: a
-- process sends a version only after claiming it, so two processes never both send the same version.
alter table chat_messages add column gone_at timestamptz;
alter table chat_messages add column gone_reason text;
alter table chat_messages add column sent_version bigint not null default -1;
alter table chat_messages add column sent_by text;
drop index chat_messages_open;
create index chat_messages_open on chat_messages (poll_id) where announced_at is null and gone_at is null;

-- Which bot process keeps a poll's messages current. A process renews its leases while it lives; an expired lease
-- is taken by another process, which then brings the poll's messages up to date.
create table delivery_leases (
  poll_id     text primary key references polls (id) on delete cascade,
  owner       text not null,
  expires_at  timestamptz not null
);
`,
  },
  {
    version: 8,
    name: 'chat conversations (Teams conversation references) for proactive posts; service URLs without a trailing slash',
    sql: `
-- Every conversation a bot was added to or spoken to in, with its reference as the platform SDK normalises it (Teams:
-- service URL without the trailing slash, conversation, tenant, bot id), so a scheduled poll can be posted there.
create table chat_conversations (
  platform         text not null check (platform in ('slack', 'teams')),
  conversation_id  text not null,
  workspace        text not null,
  reference        jsonb not null,
  updated_at       timestamptz not null default now(),
  -- Set when the bot was removed from the conversation (or the platform answered 403): no posts until it is back.
  removed_at       timestamptz,
  primary key (platform, conversation_id)
);
create index chat_conversations_workspace on chat_conversations (workspace, updated_at desc) where removed_at is null;

-- Who acted on a poll's card (Teams user MRIs), so the card can name them in refresh.userIds: Teams refreshes a card
-- by itself only for the users listed there (at most 60). Never written for anonymous polls.
create table chat_card_users (
  poll_id   text not null references polls (id) on delete cascade,
  platform  text not null check (platform in ('slack', 'teams')),
  user_ref  text not null,
  voted     boolean not null default false,
  seen_at   timestamptz not null default now(),
  primary key (poll_id, platform, user_ref)
);
create index chat_card_users_recent on chat_card_users (poll_id, platform, voted desc, seen_at desc);

-- Teams sends serviceUrl with a trailing slash; stored raw, updates went to ".../amer//v3/...". Store it as the SDK
-- uses it.
update chat_messages set meta = jsonb_set(meta, '{serviceUrl}', to_jsonb(rtrim(meta->>'serviceUrl', '/')))
  where platform = 'teams' and meta->>'serviceUrl' like '%/';
`,
  },
  {
    version: 9,
    name: 'installations: a chat app installed in a workspace through OAuth, credentials sealed',
    sql: `
-- One row per workspace the Slack app was installed in through OAuth: 'slack:<team id>', or 'slack:<enterprise id>'
-- for an org-wide install. The credentials (the bot token and the rest of what Slack handed over) are sealed with
-- AES-256-GCM under a key derived from ENCRYPTION_KEY, which never lives in this database.
create table installations (
  workspace     text primary key,
  platform      text not null check (platform in ('slack')),
  installed_by  text,
  credentials   text not null,
  installed_at  timestamptz not null default now(),
  updated_at    timestamptz not null default now(),
  check (workspace like platform || ':_%')
);
`,
  },
  {
    version: 10,
    name: 'lunch ritual: place catalog, schedules and their runs, decisions, visits, reminders, headcount',
    sql: `
-- The places (and their menus) a workspace's lunch polls are made from. A lunch poll made from the catalog uses the
-- place and menu ids as its option ids, so a choice can never point at another place after the catalog changes.
create table places (
  id           text primary key,
  workspace    text not null,
  name         text not null,
  label_en     text,
  tags         text[] not null default '{}',
  price        smallint check (price between 1 and 3),
  walk_minutes int check (walk_minutes >= 0),
  dietary      text[] not null default '{}',
  url          text,
  active       boolean not null default true,
  position     int not null default 0,
  created_at   timestamptz not null default now(),
  updated_at   timestamptz not null default now()
);
create unique index places_name on places (workspace, lower(name));

create table place_menus (
  id        text primary key,
  place_id  text not null references places (id) on delete cascade,
  position  int not null,
  name      text not null,
  label_en  text
);
create index place_menus_place on place_menus (place_id, position);

create table schedules (
  id          text primary key,
  workspace   text not null,
  spec        jsonb not null,
  created_at  timestamptz not null default now(),
  updated_at  timestamptz not null default now()
);
create index schedules_workspace on schedules (workspace, created_at);

-- One row per schedule and local day: the unique key is what makes "one poll a day" hold across instances and
-- restarts. claimed_until is the lease of the instance posting it; posted_at, reminded_at, announced_at record
-- each step once.
create table schedule_runs (
  schedule_id   text not null references schedules (id) on delete cascade,
  local_date    date not null,
  poll_id       text not null unique,
  destination   jsonb not null,
  claimed_until timestamptz,
  posted_at     timestamptz,
  announced_at  timestamptz,
  created_at    timestamptz not null default now(),
  primary key (schedule_id, local_date)
);

-- How a poll was decided (lunch rules) and whether it was extended once for its quorum.
alter table polls add column decision jsonb;
alter table polls add column extended_at timestamptz;

-- What the polls decided: where the team ate. place_id is null for a place that is not (or no longer) in the catalog.
create table visits (
  poll_id     text primary key,
  workspace   text not null,
  place_id    text,
  name        text not null,
  local_date  date not null,
  votes       int not null,
  created_at  timestamptz not null default now()
);
create index visits_workspace on visits (workspace, local_date desc);

-- Reminders sent, one row per poll and target ('destination' or a voter key): never two for the same pair.
create table reminders (
  poll_id  text not null,
  target   text not null,
  sent_at  timestamptz not null default now(),
  primary key (poll_id, target)
);
create table reminder_opt_outs (
  workspace  text not null,
  voter_key  text not null,
  at         timestamptz not null default now(),
  primary key (workspace, voter_key)
);

-- "I'm in" after the decision.
create table headcount (
  poll_id    text not null references polls (id) on delete cascade,
  voter_key  text not null,
  at         timestamptz not null default now(),
  primary key (poll_id, voter_key)
);
`,
  },
  {
    version: 11,
    name: 'group commit without hot rows: a batch of casts adds to each counter row once',
    sql: `
-- A batch of casts used to update its shard row (and each option's tally row) once per cast, all in one
-- transaction: every update of a row already updated by the same transaction adds a row version that the next one
-- has to walk past, so a batch of n casts cost O(n²) on its hottest row (pg_stat_statements: the shard update
-- averaged 1.9 ms at 256 concurrent voters). Now each cast takes the gate (its shard row, locked) and reports what
-- it adds to the counters; the batch, and lv_cast for one cast, add it all with one update per poll and one upsert
-- per tally row (lv_count).

-- lv_cast as in migration 6, minus the counters: the shard row is locked rather than updated, and an accepted
-- change comes back with "_d" = {"p": poll, "v": voters delta, "t": {tally key: delta}} for the caller to apply.
-- The idempotency row stores the outcome without it, so a replay adds nothing.
create function lv_cast_core(
  p_poll text, p_question text, p_platform text, p_tenant text, p_user text, p_emp text,
  p_options text[], p_key text, p_shard int, p_audit boolean,
  -- null: take the voter's lock and the gate here; true / false: the caller (a batch) already holds both and read
  -- the gate open / closed.
  p_gate boolean
) returns jsonb language plpgsql as $fn$
declare
  -- The person, after the directory. Their lock is taken on it (as lv_cast_batch does, before any cast); a lock
  -- is held in memory for the transaction only, never stored.
  v_person text := lv_voter_key(p_platform, p_tenant, p_user, p_emp);
  -- What the rows hold: v_person and p_key, or their keyed hashes in an anonymous poll.
  v_voter text;
  v_key text;
  -- The caller passes the TTL as a transaction-local setting (see SqlStore); 24 hours when it doesn't.
  v_ttl interval := coalesce(nullif(current_setting('livevote.idempotency_ttl_ms', true), '')::bigint, 86400000)
    * interval '1 millisecond';
  v_fp text;
  v_found boolean;
  v_status text;
  v_closes timestamptz;
  v_max int;
  v_anonymous boolean;
  v_prev text[];
  -- Callers send choices sorted (checkBallot does); sorting here too keeps a ballot's identity exact regardless.
  v_new text[] := case when cardinality(p_options) <= 1 then coalesce(p_options, '{}')
    else (select array_agg(o order by o) from unnest(p_options) o) end;
  v_others int;
  v_dv int := 0;
  v_out jsonb;
  v_stored record;
  -- What the change adds to the counters (the caller applies it): {"p": poll, "v": voters, "t": {key: delta}}.
  v_delta jsonb;
  v_tally jsonb := '{}'::jsonb;
  v_opt text;
begin
  v_fp := p_poll || '|' || p_question || '|' || array_to_string(v_new, ',');
  -- Serialises one voter's changes in one poll (both questions), without touching any shared row.
  if p_gate is null then
    perform pg_advisory_xact_lock(hashtextextended(p_poll || chr(31) || v_person, 0));
  end if;

  select p.status, p.closes_at, q.max_choices, coalesce((p.settings->>'anonymous')::boolean, false)
    into v_status, v_closes, v_max, v_anonymous
    from polls p left join questions q on q.poll_id = p.id and q.id = p_question where p.id = p_poll;
  v_found := found;
  if coalesce(v_anonymous, false) then
    v_voter := lv_anon(p_poll, 'voter', v_person);
    v_key := case when p_key is not null then lv_anon(p_poll, 'key', p_key) end;
  else
    v_anonymous := false;
    v_voter := v_person;
    v_key := p_key;
  end if;

  if v_key is not null then
    select fingerprint, outcome, created_at into v_stored
      from idempotency where voter_key = v_voter and key = v_key;
    if found then
      if v_stored.created_at > now() - v_ttl then
        if v_stored.fingerprint <> v_fp then
          return jsonb_build_object('ok', false, 'reason', 'idempotency_key_reused');
        end if;
        return v_stored.outcome || jsonb_build_object('replayed', true);
      end if;
      -- Expired: the key is new again, whether or not the purge job has run yet.
      delete from idempotency where voter_key = v_voter and key = v_key;
    end if;
  end if;

  if not v_found then return jsonb_build_object('ok', false, 'reason', 'unknown_poll'); end if;
  if v_status <> 'open' or v_closes <= now() then
    return jsonb_build_object('ok', false, 'reason', 'poll_closed');
  end if;
  if v_max is null then return jsonb_build_object('ok', false, 'reason', 'unknown_question'); end if;
  if cardinality(v_new) > 0 then
    -- Option rows are never deleted, so this check cannot go stale before commit.
    if (select count(*) from options where poll_id = p_poll and question_id = p_question and id = any (v_new))
        <> cardinality(v_new) then
      if (select count(distinct o) from unnest(v_new) o) <> cardinality(v_new) then
        return jsonb_build_object('ok', false, 'reason', 'duplicate_option');
      end if;
      return jsonb_build_object('ok', false, 'reason', 'unknown_option');
    end if;
    if cardinality(v_new) > v_max then
      return jsonb_build_object('ok', false, 'reason', 'too_many_choices');
    end if;
  end if;

  select option_ids into v_prev from ballots
    where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
  v_out := jsonb_build_object('ok', true, 'replayed', false, 'option_ids', to_jsonb(v_new));

  if coalesce(v_prev, '{}') = v_new then
    v_out := v_out || jsonb_build_object('changed', false);
  else
    if v_prev is null or cardinality(v_new) = 0 then
      select count(*) into v_others from ballots
        where poll_id = p_poll and voter_key = v_voter and question_id <> p_question;
      if v_others = 0 then v_dv := case when v_prev is null then 1 else -1 end; end if;
    end if;
    -- The gate: closing a poll flips every shard's open flag under the same row locks, so no vote slips past a close.
    -- The lock holds to the commit; the caller adds this change to the row's counters before it (lv_count).
    if p_gate is null then
      perform 1 from poll_shards where poll_id = p_poll and shard = p_shard and open for update;
      if not found then return jsonb_build_object('ok', false, 'reason', 'poll_closed'); end if;
    elsif not p_gate then
      return jsonb_build_object('ok', false, 'reason', 'poll_closed');
    end if;

    if cardinality(v_new) = 0 then
      delete from ballots where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
    else
      insert into ballots (poll_id, voter_key, question_id, option_ids, platform)
        values (p_poll, v_voter, p_question, v_new, p_platform)
        on conflict (poll_id, voter_key, question_id)
        do update set option_ids = excluded.option_ids, platform = excluded.platform, cast_at = now();
    end if;

    -- Each option left −1, each chosen +1, the question's ballots ±1 when a ballot appears or goes; plain
    -- expressions (no query per cast). An option both left and chosen nets 0, which lv_count skips.
    foreach v_opt in array coalesce(v_prev, '{}') loop
      v_tally := v_tally || jsonb_build_object(v_opt, coalesce((v_tally->>v_opt)::int, 0) - 1);
    end loop;
    foreach v_opt in array v_new loop
      v_tally := v_tally || jsonb_build_object(v_opt, coalesce((v_tally->>v_opt)::int, 0) + 1);
    end loop;
    if v_prev is null then
      v_tally := v_tally || jsonb_build_object('#' || p_question, 1);
    elsif cardinality(v_new) = 0 then
      v_tally := v_tally || jsonb_build_object('#' || p_question, -1);
    end if;
    v_delta := jsonb_build_object('p', p_poll, 'v', v_dv, 't', v_tally);
    v_out := v_out || jsonb_build_object('changed', true);
  end if;

  if p_audit then
    insert into outbox (kind, poll_id, doc) values ('audit', p_poll, jsonb_build_object(
      'type', case when cardinality(v_new) = 0 then 'retract' else 'vote' end,
      'poll_id', p_poll,
      'at', now(),
      'question_id', p_question,
      'option_ids', to_jsonb(v_new),
      'previous_option_ids', to_jsonb(coalesce(v_prev, '{}')),
      'changed', v_out->'changed',
      'platform', p_platform)
      || case when v_anonymous then '{}'::jsonb
        else jsonb_build_object('voter', v_voter, 'delivery_id', p_key) end);
  end if;

  if v_key is not null then
    insert into idempotency (voter_key, key, poll_id, fingerprint, outcome)
      values (v_voter, v_key, p_poll, v_fp, v_out);
  end if;
  return case when v_delta is null then v_out else v_out || jsonb_build_object('_d', v_delta) end;
end
$fn$;

-- Adds changes to the counters of one shard: per poll, the number of changes and the voters delta; per tally key,
-- the summed delta. Rows in key order, as every writer takes them, so concurrent batches never deadlock on them.
create function lv_count(p_shard int, p_changes jsonb[]) returns void language plpgsql as $fn$
declare
  r record;
begin
  for r in select x->>'p' as poll, count(*)::int as changes, sum((x->>'v')::int)::int as voters
      from unnest(p_changes) x group by 1 order by 1 loop
    update poll_shards set changes = changes + r.changes, voters = voters + r.voters
      where poll_id = r.poll and shard = p_shard;
  end loop;
  insert into tally (poll_id, key, shard, n)
    select x->>'p', t.key, p_shard, sum(t.value::bigint)
    from unnest(p_changes) x cross join lateral jsonb_each_text(x->'t') t
    group by 1, 2 having sum(t.value::bigint) <> 0 order by 1, 2
    on conflict (poll_id, key, shard) do update set n = tally.n + excluded.n;
end
$fn$;

-- One cast: lv_cast_core, then its counters. Same signature and answers as before.
create or replace function lv_cast(
  p_poll text, p_question text, p_platform text, p_tenant text, p_user text, p_emp text,
  p_options text[], p_key text, p_shard int, p_audit boolean
) returns jsonb language plpgsql as $fn$
declare
  v_out jsonb := lv_cast_core(p_poll, p_question, p_platform, p_tenant, p_user, p_emp, p_options, p_key, p_shard,
    p_audit, null);
begin
  if v_out ? '_d' then
    perform lv_count(p_shard, array[v_out->'_d']);
  end if;
  return v_out - '_d';
end
$fn$;

-- Many casts in one transaction (group commit), as in migration 2: every voter lock first, in one global order;
-- then the shard rows of the batch's polls, in poll order (so two batches never wait on each other in a cycle);
-- then each cast as alone, minus the locks it already holds; then the counters once.
create or replace function lv_cast_batch(p_casts jsonb, p_shard int, p_audit boolean) returns jsonb
language plpgsql as $fn$
declare
  v_outs jsonb[] := '{}';
  v_changes jsonb[] := '{}';
  v_out jsonb;
  v_open text[];
  c jsonb;
begin
  perform pg_advisory_xact_lock(k) from (
    select distinct hashtextextended(x->>'poll' || chr(31)
      || lv_voter_key(x->>'platform', x->>'tenant', x->>'user', x->>'emp'), 0) as k
    from jsonb_array_elements(p_casts) x order by 1
  ) keys;
  -- The gate of every poll in the batch, held to the commit: a close waits for us, or we see it closed.
  select coalesce(array_agg(g.poll_id) filter (where g.open), '{}') into v_open from (
    select poll_id, open from poll_shards
      where shard = p_shard and poll_id in (select x->>'poll' from jsonb_array_elements(p_casts) x)
      order by poll_id for update) g;
  for c in select * from jsonb_array_elements(p_casts) loop
    v_out := lv_cast_core(
      c->>'poll', c->>'question', c->>'platform', c->>'tenant', c->>'user', c->>'emp',
      array(select jsonb_array_elements_text(c->'options')), c->>'key', p_shard, p_audit,
      (c->>'poll') = any (v_open));
    if v_out ? '_d' then
      v_changes := v_changes || (v_out->'_d');
      v_out := v_out - '_d';
    end if;
    v_outs := v_outs || v_out;
  end loop;
  if cardinality(v_changes) > 0 then
    perform lv_count(p_shard, v_changes);
  end if;
  return to_jsonb(v_outs);
end
$fn$;
`,
  },
  {
    version: 12,
    name: 'set-based group commit: a batch of casts is one statement, not one lv_cast_core call per cast',
    sql: `
-- lv_cast_batch ran lv_cast_core once per cast: ~8 statements each (poll, idempotency, options, ballot, other
-- ballots, ballot write, audit row, idempotency row), ~0.3 ms of one backend's CPU per cast, so a batch of 250
-- held one core for ~50 ms while the other waited. lv_cast_set does the same work for the whole batch in one
-- statement (every lookup a join, every write one multi-row insert or update), with the same answers, rows and
-- locks as lv_cast_batch. A batch in which one person votes twice in a poll (or reuses an idempotency key) would
-- need its casts applied one after another, so it goes to lv_cast_batch unchanged.
create function lv_cast_set(p_casts jsonb, p_shard int, p_audit boolean) returns jsonb language plpgsql as $fn$
declare
  -- The caller passes the TTL as a transaction-local setting (see SqlStore); 24 hours when it doesn't.
  v_ttl interval := coalesce(nullif(current_setting('livevote.idempotency_ttl_ms', true), '')::bigint, 86400000)
    * interval '1 millisecond';
  -- Each cast's person, after the directory (as lv_voter_key computes it), by position in the batch.
  v_persons text[];
  v_dup boolean;
  v_open text[];
  v_out jsonb;
  v_keys_written int;
  v_keys_expected int;
begin
  select array_agg(s.person order by s.n),
      count(distinct (s.poll, s.person)) <> count(*)
        or count(distinct (s.person, s.key)) filter (where s.key is not null) <> count(s.key)
    into v_persons, v_dup
    from (
      select e.n, e.x->>'poll' as poll, e.x->>'key' as key,
        case when e.x->>'emp' is not null then 'emp:' || (e.x->>'emp')
          else coalesce('emp:' || d.emp_no, (e.x->>'platform') || ':' || (e.x->>'tenant') || ':' || (e.x->>'user'))
        end as person
      from jsonb_array_elements(p_casts) with ordinality e(x, n)
      left join directory d on e.x->>'emp' is null and d.platform = e.x->>'platform'
        and d.tenant = e.x->>'tenant' and d.user_id = e.x->>'user'
    ) s;
  if v_dup then
    return lv_cast_batch(p_casts, p_shard, p_audit);
  end if;

  -- Locks as lv_cast_batch takes them: every voter's, in one global order, then the batch's shard rows in poll
  -- order (the gate, held to the commit).
  perform pg_advisory_xact_lock(k) from (
    select distinct hashtextextended((e.x->>'poll') || chr(31) || v_persons[e.n], 0) as k
    from jsonb_array_elements(p_casts) with ordinality e(x, n) order by 1
  ) keys;
  select coalesce(array_agg(g.poll_id) filter (where g.open), '{}') into v_open from (
    select poll_id, open from poll_shards
      where shard = p_shard and poll_id in (select x->>'poll' from jsonb_array_elements(p_casts) x)
      order by poll_id for update) g;

  -- One statement, one snapshot (taken after the locks, so it sees every earlier change of these voters). Its
  -- writes touch disjoint rows: no person appears twice in a poll, and no idempotency key twice.
  -- c and h are materialized: each cast's sorted choices and hashed keys are computed once, not once per use.
  with c as materialized (
    select e.n, e.x->>'poll' as poll, e.x->>'question' as question, e.x->>'platform' as platform,
      e.x->>'key' as key, v_persons[e.n] as person,
      -- Callers send choices sorted (checkBallot does); sorting here too keeps a ballot's identity exact regardless.
      coalesce((select array_agg(o order by o) from jsonb_array_elements_text(e.x->'options') o), '{}') as new
    from jsonb_array_elements(p_casts) with ordinality e(x, n)
  ), k as (
    select c.*, p.id is not null as found, p.status, p.closes_at, q.max_choices,
      coalesce((p.settings->>'anonymous')::boolean, false) as anon,
      c.poll || '|' || c.question || '|' || array_to_string(c.new, ',') as fp
    from c left join polls p on p.id = c.poll left join questions q on q.poll_id = p.id and q.id = c.question
  ), h as materialized (
    -- What the rows hold: the person and the key, or their keyed hashes in an anonymous poll.
    select k.*,
      case when k.anon then lv_anon(k.poll, 'voter', k.person) else k.person end as voter,
      case when k.anon then case when k.key is not null then lv_anon(k.poll, 'key', k.key) end else k.key end as vkey
    from k
  ), r as (
    select h.*, i.voter_key is not null as i_found, i.created_at > now() - v_ttl as i_fresh,
      i.fingerprint as i_fp, i.outcome as i_outcome, b.option_ids as prev,
      (select count(*) from options o where o.poll_id = h.poll and o.question_id = h.question and o.id = any (h.new))
        as matched,
      exists (select 1 from ballots b2 where b2.poll_id = h.poll and b2.voter_key = h.voter
        and b2.question_id <> h.question) as others
    from h
    left join idempotency i on h.vkey is not null and i.voter_key = h.voter and i.key = h.vkey
    left join ballots b on b.poll_id = h.poll and b.voter_key = h.voter and b.question_id = h.question
  ), v as (
    -- lv_cast_core's checks, in its order: a fresh key answers first, then the refusals.
    select r.*,
      coalesce(r.i_found and r.i_fresh, false) as replay,
      case
        when r.i_found and r.i_fresh then case when r.i_fp <> r.fp then 'idempotency_key_reused' end
        when not r.found then 'unknown_poll'
        when r.status <> 'open' or r.closes_at <= now() then 'poll_closed'
        when r.max_choices is null then 'unknown_question'
        when cardinality(r.new) > 0 and r.matched <> cardinality(r.new)
          and (select count(distinct o) from unnest(r.new) o) <> cardinality(r.new) then 'duplicate_option'
        when cardinality(r.new) > 0 and r.matched <> cardinality(r.new) then 'unknown_option'
        when cardinality(r.new) > r.max_choices then 'too_many_choices'
        when coalesce(r.prev, '{}') <> r.new and not (r.poll = any (v_open)) then 'poll_closed'
      end as reason,
      coalesce(r.prev, '{}') <> r.new as changed
    from r
  ), d as (
    select v.*, v.reason is null and not v.replay as accepted,
      -- The voters delta: a person's first ballot in the poll, or their last one taken back.
      case when (v.prev is null or cardinality(v.new) = 0) and not v.others
        then case when v.prev is null then 1 else -1 end else 0 end as dv,
      jsonb_build_object('ok', true, 'replayed', false, 'option_ids', to_jsonb(v.new), 'changed', v.changed)
        as outcome
    from v
  ), ch as (
    select * from d where accepted and changed
  ), w_ballots as (
    insert into ballots (poll_id, voter_key, question_id, option_ids, platform)
      select poll, voter, question, new, platform from ch where cardinality(new) > 0 order by n
      on conflict (poll_id, voter_key, question_id)
      do update set option_ids = excluded.option_ids, platform = excluded.platform, cast_at = now()
  ), w_retracts as (
    delete from ballots b using ch
      where cardinality(ch.new) = 0 and b.poll_id = ch.poll and b.voter_key = ch.voter and b.question_id = ch.question
  ), w_audit as (
    insert into outbox (kind, poll_id, doc)
      select 'audit', d.poll, jsonb_build_object(
          'type', case when cardinality(d.new) = 0 then 'retract' else 'vote' end,
          'poll_id', d.poll,
          'at', now(),
          'question_id', d.question,
          'option_ids', to_jsonb(d.new),
          'previous_option_ids', to_jsonb(coalesce(d.prev, '{}')),
          'changed', d.changed,
          'platform', d.platform)
        || case when d.anon then '{}'::jsonb else jsonb_build_object('voter', d.voter, 'delivery_id', d.key) end
      from d where p_audit and d.accepted order by d.n
  ), w_expired as (
    -- An expired key is new again: lv_cast_core deletes it before any refusal; an accepted cast overwrites it below.
    delete from idempotency i using d
      where not d.accepted and d.i_found and not d.i_fresh and i.voter_key = d.voter and i.key = d.vkey
  ), w_keys as (
    insert into idempotency (voter_key, key, poll_id, fingerprint, outcome)
      select voter, vkey, poll, fp, outcome from d where accepted and vkey is not null order by n
      on conflict (voter_key, key) do update
        set poll_id = excluded.poll_id, fingerprint = excluded.fingerprint, outcome = excluded.outcome,
          created_at = now()
        where idempotency.created_at <= now() - v_ttl
      returning 1
  ), w_shards as (
    update poll_shards s set changes = s.changes + x.changes, voters = s.voters + x.voters
      from (select poll, count(*)::int as changes, sum(dv)::int as voters from ch group by poll) x
      where s.poll_id = x.poll and s.shard = p_shard
  ), w_tally as (
    -- Rows in key order, as every writer takes them, so concurrent batches never deadlock on them.
    insert into tally (poll_id, key, shard, n)
      select t.poll, t.key, p_shard, sum(t.delta) from (
        select ch.poll, o as key, -1 as delta from ch cross join unnest(coalesce(ch.prev, '{}')) o
        union all
        select ch.poll, o, 1 from ch cross join unnest(ch.new) o
        union all
        select ch.poll, '#' || ch.question, case when ch.prev is null then 1 else -1 end from ch
          where ch.prev is null or cardinality(ch.new) = 0
      ) t group by 1, 2 having sum(t.delta) <> 0 order by 1, 2
      on conflict (poll_id, key, shard) do update set n = tally.n + excluded.n
  )
  select jsonb_agg(case
        when d.replay and d.reason is null then d.i_outcome || '{"replayed": true}'::jsonb
        when d.reason is not null then jsonb_build_object('ok', false, 'reason', d.reason)
        else d.outcome end order by d.n),
      (select count(*) from w_keys)::int,
      (count(*) filter (where d.accepted and d.vkey is not null))::int
    into v_out, v_keys_written, v_keys_expected
    from d;
  -- Another transaction stored this voter's key meanwhile (the same key in another poll): as lv_cast_core's insert
  -- would, fail the batch rather than answer without the row.
  if v_keys_written <> v_keys_expected then
    raise exception 'idempotency key stored concurrently' using errcode = 'unique_violation';
  end if;
  return v_out;
end
$fn$;
`,
  },
  {
    version: 13,
    name: 'a cast and the read of its poll tally after the commit, in one round trip (lv_cast_commit)',
    sql: `
-- A vote's answer, and the snapshot every screen gets, carry the tally read after the vote's commit: read inside
-- the cast's own transaction it would miss the casts committing beside it on other shards, and two of them would
-- publish different tallies under one version. That read was a second round trip after the commit (~0.7 ms of the
-- ~4 ms a vote took at idle). A procedure may commit half way: lv_cast_commit commits the casts, then reads in a new
-- transaction, which sees every commit up to then (its own included), and answers both at once.

-- One poll's counters as readTally answers them: one statement, so one MVCC snapshot, so the version (the sum of
-- changes) and the counts always agree. Null for an unknown poll. plpgsql rather than SQL: it keeps its plan for the
-- session, where a SQL function that cannot be inlined is planned again on every call (~0.4 ms here).
create function lv_tally(p_poll text) returns jsonb language plpgsql stable as $fn$
begin
  return (select jsonb_build_object(
    'status', case when p.status = 'open' and (p.closes_at is null or p.closes_at > now()) then 'open' else 'closed' end,
    'version', (select coalesce(sum(s.changes), 0)::int from poll_shards s where s.poll_id = p.id),
    'voters', (select coalesce(sum(s.voters), 0)::int from poll_shards s where s.poll_id = p.id),
    'option_count', (select count(*)::int from options o where o.poll_id = p.id),
    'counts', (select coalesce(jsonb_object_agg(c.key, c.n), '{}'::jsonb)
      from (select t.key, sum(t.n)::int as n from tally t where t.poll_id = p.id group by t.key) c))
  from polls p where p.id = p_poll);
end
$fn$;

-- The same person key as before, in plpgsql for the same reason: a SQL function with a sub-select is never inlined,
-- so the one-cast path planned the directory lookup on every vote.
create or replace function lv_voter_key(p_platform text, p_tenant text, p_user text, p_emp text) returns text
language plpgsql stable as $fn$
begin
  if p_emp is not null then return 'emp:' || p_emp; end if;
  return coalesce(
    (select 'emp:' || d.emp_no from directory d
      where d.platform = p_platform and d.tenant = p_tenant and d.user_id = p_user),
    p_platform || ':' || p_tenant || ':' || p_user);
end
$fn$;

-- The casts (one: lv_cast; more: lv_cast_set), committed; then each of their polls' tallies. Answers
-- {"outcomes": [as lv_cast_set], "tallies": {poll: lv_tally(poll)}}. The TTL and the anonymity keys are set here as
-- transaction-local settings, as SqlStore set them beside lv_cast before. A failure before the commit rolls every
-- cast back (the caller may run it again); CALL it outside a transaction block, or the commit is refused.
create procedure lv_cast_commit(
  p_casts jsonb, p_shard int, p_audit boolean, p_ttl_ms text, p_poll_keys text, inout r jsonb default null
) language plpgsql as $fn$
declare
  c jsonb := p_casts->0;
  v_outs jsonb;
begin
  perform set_config('livevote.idempotency_ttl_ms', p_ttl_ms, true);
  perform set_config('livevote.poll_keys', p_poll_keys, true);
  if jsonb_array_length(p_casts) = 1 then
    v_outs := jsonb_build_array(lv_cast(c->>'poll', c->>'question', c->>'platform', c->>'tenant', c->>'user',
      c->>'emp', array(select jsonb_array_elements_text(c->'options')), c->>'key', p_shard, p_audit));
  else
    v_outs := lv_cast_set(p_casts, p_shard, p_audit);
  end if;
  commit;
  r := jsonb_build_object('outcomes', v_outs, 'tallies', (
    select coalesce(jsonb_object_agg(x.poll, lv_tally(x.poll)), '{}'::jsonb)
    from (select distinct e->>'poll' as poll from jsonb_array_elements(p_casts) e) x));
end
$fn$;
`,
  },
  {
    version: 14,
    name: 'lv_cast_set looks rows up by key, whatever the statistics say',
    sql: `
-- lv_cast_set joined the batch to ballots, idempotency, polls, questions and directory. A plan cached by a session
-- while those tables were small (or not analysed yet) hashes the whole table for every batch: on a fresh database
-- a batch of 128 casts took 13.6 ms at 6,400 ballots and 30.8 ms at 38,400, growing with every vote ever cast.
-- Each lookup is now a lateral subquery with LIMIT 1, which the planner cannot turn into a join, and the function
-- runs with enable_seqscan off, so that subquery is an index probe even where a table looked tiny when planned: one
-- probe per cast, at any table size. The gate rows (poll_shards, which grows with polls) are locked the same way and
-- their counters updated one statement per poll, by key, after the batch's statement (a join there was planned as a
-- scan of every poll's row of the shard); the two deletes go by the rows their lookups found (ctid).
-- Otherwise as in migration 12: the same answers, rows and locks.
create or replace function lv_cast_set(p_casts jsonb, p_shard int, p_audit boolean) returns jsonb language plpgsql
-- Every table this reads is read by its primary key: a plan with a sequential scan is never the right one here,
-- whatever the statistics said when the session planned it.
set enable_seqscan = off as $fn$
declare
  -- The caller passes the TTL as a transaction-local setting (see SqlStore); 24 hours when it doesn't.
  v_ttl interval := coalesce(nullif(current_setting('livevote.idempotency_ttl_ms', true), '')::bigint, 86400000)
    * interval '1 millisecond';
  -- Each cast's person, after the directory (as lv_voter_key computes it), by position in the batch.
  v_persons text[];
  v_dup boolean;
  v_open text[];
  v_out jsonb;
  v_keys_written int;
  v_keys_expected int;
  v_counts jsonb;
  v_count record;
begin
  select array_agg(s.person order by s.n),
      count(distinct (s.poll, s.person)) <> count(*)
        or count(distinct (s.person, s.key)) filter (where s.key is not null) <> count(s.key)
    into v_persons, v_dup
    from (
      select e.n, e.x->>'poll' as poll, e.x->>'key' as key,
        case when e.x->>'emp' is not null then 'emp:' || (e.x->>'emp')
          else coalesce('emp:' || d.emp_no, (e.x->>'platform') || ':' || (e.x->>'tenant') || ':' || (e.x->>'user'))
        end as person
      from jsonb_array_elements(p_casts) with ordinality e(x, n)
      left join lateral (select d.emp_no from directory d where e.x->>'emp' is null
        and d.platform = e.x->>'platform' and d.tenant = e.x->>'tenant' and d.user_id = e.x->>'user' limit 1) d on true
    ) s;
  if v_dup then
    return lv_cast_batch(p_casts, p_shard, p_audit);
  end if;

  -- Locks as lv_cast_batch takes them: every voter's, in one global order, then the batch's shard rows in poll
  -- order (the gate, held to the commit).
  perform pg_advisory_xact_lock(k) from (
    select distinct hashtextextended((e.x->>'poll') || chr(31) || v_persons[e.n], 0) as k
    from jsonb_array_elements(p_casts) with ordinality e(x, n) order by 1
  ) keys;
  -- Each by its key, in poll order.
  select coalesce(array_agg(g.poll_id) filter (where g.open), '{}') into v_open from (
    select s.poll_id, s.open
      from (select distinct x->>'poll' as poll from jsonb_array_elements(p_casts) x order by 1) b
      cross join lateral (
        select poll_id, open from poll_shards where poll_id = b.poll and shard = p_shard limit 1 for update
      ) s) g;

  -- One statement, one snapshot (taken after the locks, so it sees every earlier change of these voters). Its
  -- writes touch disjoint rows: no person appears twice in a poll, and no idempotency key twice.
  -- c and h are materialized: each cast's sorted choices and hashed keys are computed once, not once per use.
  with c as materialized (
    select e.n, e.x->>'poll' as poll, e.x->>'question' as question, e.x->>'platform' as platform,
      e.x->>'key' as key, v_persons[e.n] as person,
      -- Callers send choices sorted (checkBallot does); sorting here too keeps a ballot's identity exact regardless.
      coalesce((select array_agg(o order by o) from jsonb_array_elements_text(e.x->'options') o), '{}') as new
    from jsonb_array_elements(p_casts) with ordinality e(x, n)
  ), k as (
    select c.*, p.id is not null as found, p.status, p.closes_at, q.max_choices,
      coalesce((p.settings->>'anonymous')::boolean, false) as anon,
      c.poll || '|' || c.question || '|' || array_to_string(c.new, ',') as fp
    from c
    left join lateral (select p.id, p.status, p.closes_at, p.settings from polls p where p.id = c.poll limit 1) p on true
    left join lateral (select q.max_choices from questions q where q.poll_id = p.id and q.id = c.question limit 1) q
      on true
  ), h as materialized (
    -- What the rows hold: the person and the key, or their keyed hashes in an anonymous poll.
    select k.*,
      case when k.anon then lv_anon(k.poll, 'voter', k.person) else k.person end as voter,
      case when k.anon then case when k.key is not null then lv_anon(k.poll, 'key', k.key) end else k.key end as vkey
    from k
  ), r as (
    select h.*, i.voter_key is not null as i_found, i.created_at > now() - v_ttl as i_fresh,
      i.fingerprint as i_fp, i.outcome as i_outcome, i.ctid as i_row, b.option_ids as prev, b.ctid as b_row,
      (select count(*) from options o where o.poll_id = h.poll and o.question_id = h.question and o.id = any (h.new))
        as matched,
      exists (select 1 from ballots b2 where b2.poll_id = h.poll and b2.voter_key = h.voter
        and b2.question_id <> h.question) as others
    from h
    left join lateral (select i.voter_key, i.created_at, i.fingerprint, i.outcome, i.ctid from idempotency i
      where h.vkey is not null and i.voter_key = h.voter and i.key = h.vkey limit 1) i on true
    left join lateral (select b.option_ids, b.ctid from ballots b
      where b.poll_id = h.poll and b.voter_key = h.voter and b.question_id = h.question limit 1) b on true
  ), v as (
    -- lv_cast_core's checks, in its order: a fresh key answers first, then the refusals.
    select r.*,
      coalesce(r.i_found and r.i_fresh, false) as replay,
      case
        when r.i_found and r.i_fresh then case when r.i_fp <> r.fp then 'idempotency_key_reused' end
        when not r.found then 'unknown_poll'
        when r.status <> 'open' or r.closes_at <= now() then 'poll_closed'
        when r.max_choices is null then 'unknown_question'
        when cardinality(r.new) > 0 and r.matched <> cardinality(r.new)
          and (select count(distinct o) from unnest(r.new) o) <> cardinality(r.new) then 'duplicate_option'
        when cardinality(r.new) > 0 and r.matched <> cardinality(r.new) then 'unknown_option'
        when cardinality(r.new) > r.max_choices then 'too_many_choices'
        when coalesce(r.prev, '{}') <> r.new and not (r.poll = any (v_open)) then 'poll_closed'
      end as reason,
      coalesce(r.prev, '{}') <> r.new as changed
    from r
  ), d as (
    select v.*, v.reason is null and not v.replay as accepted,
      -- The voters delta: a person's first ballot in the poll, or their last one taken back.
      case when (v.prev is null or cardinality(v.new) = 0) and not v.others
        then case when v.prev is null then 1 else -1 end else 0 end as dv,
      jsonb_build_object('ok', true, 'replayed', false, 'option_ids', to_jsonb(v.new), 'changed', v.changed)
        as outcome
    from v
  ), ch as (
    select * from d where accepted and changed
  ), w_ballots as (
    insert into ballots (poll_id, voter_key, question_id, option_ids, platform)
      select poll, voter, question, new, platform from ch where cardinality(new) > 0 order by n
      on conflict (poll_id, voter_key, question_id)
      do update set option_ids = excluded.option_ids, platform = excluded.platform, cast_at = now()
  ), w_retracts as (
    -- By the row the lookup above found (locked by its voter's lock, so still that row): a TID scan whatever the
    -- table's size or statistics, where a join here could be planned as a scan of the whole table.
    delete from ballots b
      where b.ctid = any (array(select ch.b_row from ch where cardinality(ch.new) = 0 and ch.b_row is not null))
  ), w_audit as (
    insert into outbox (kind, poll_id, doc)
      select 'audit', d.poll, jsonb_build_object(
          'type', case when cardinality(d.new) = 0 then 'retract' else 'vote' end,
          'poll_id', d.poll,
          'at', now(),
          'question_id', d.question,
          'option_ids', to_jsonb(d.new),
          'previous_option_ids', to_jsonb(coalesce(d.prev, '{}')),
          'changed', d.changed,
          'platform', d.platform)
        || case when d.anon then '{}'::jsonb else jsonb_build_object('voter', d.voter, 'delivery_id', d.key) end
      from d where p_audit and d.accepted order by d.n
  ), w_expired as (
    -- An expired key is new again: lv_cast_core deletes it before any refusal; an accepted cast overwrites it below.
    delete from idempotency i
      where i.ctid = any (array(select d.i_row from d where not d.accepted and d.i_found and not d.i_fresh))
  ), w_keys as (
    insert into idempotency (voter_key, key, poll_id, fingerprint, outcome)
      select voter, vkey, poll, fp, outcome from d where accepted and vkey is not null order by n
      on conflict (voter_key, key) do update
        set poll_id = excluded.poll_id, fingerprint = excluded.fingerprint, outcome = excluded.outcome,
          created_at = now()
        where idempotency.created_at <= now() - v_ttl
      returning 1
  ), w_tally as (
    -- Rows in key order, as every writer takes them, so concurrent batches never deadlock on them.
    insert into tally (poll_id, key, shard, n)
      select t.poll, t.key, p_shard, sum(t.delta) from (
        select ch.poll, o as key, -1 as delta from ch cross join unnest(coalesce(ch.prev, '{}')) o
        union all
        select ch.poll, o, 1 from ch cross join unnest(ch.new) o
        union all
        select ch.poll, '#' || ch.question, case when ch.prev is null then 1 else -1 end from ch
          where ch.prev is null or cardinality(ch.new) = 0
      ) t group by 1, 2 having sum(t.delta) <> 0 order by 1, 2
      on conflict (poll_id, key, shard) do update set n = tally.n + excluded.n
  )
  select jsonb_agg(case
        when d.replay and d.reason is null then d.i_outcome || '{"replayed": true}'::jsonb
        when d.reason is not null then jsonb_build_object('ok', false, 'reason', d.reason)
        else d.outcome end order by d.n),
      (select count(*) from w_keys)::int,
      (count(*) filter (where d.accepted and d.vkey is not null))::int,
      -- Per poll: the changes and the voters delta its gate row (its shard's counters) takes below.
      (select coalesce(jsonb_agg(jsonb_build_object('poll', x.poll, 'changes', x.changes, 'voters', x.voters)
          order by x.poll), '[]'::jsonb)
        from (select poll, count(*)::int as changes, sum(dv)::int as voters from ch group by poll) x)
    into v_out, v_keys_written, v_keys_expected, v_counts
    from d;
  -- Another transaction stored this voter's key meanwhile (the same key in another poll): as lv_cast_core's insert
  -- would, fail the batch rather than answer without the row.
  if v_keys_written <> v_keys_expected then
    raise exception 'idempotency key stored concurrently' using errcode = 'unique_violation';
  end if;
  -- The gate rows are locked since the start, so this order cannot deadlock; each update is one index probe.
  for v_count in select * from jsonb_to_recordset(v_counts) as x(poll text, changes int, voters int) loop
    update poll_shards set changes = changes + v_count.changes, voters = voters + v_count.voters
      where poll_id = v_count.poll and shard = p_shard;
  end loop;
  return v_out;
end
$fn$;
`,
  },
  {
    version: 15,
    name: 'winner announcements: claimed by a bot process while it holds the poll, marked made once sent',
    sql: `
-- announced_at was set when a process claimed the announcement, before it was sent: a process that died in between,
-- or gave up on a platform outage, left it claimed and never made, and the poll stopped being live. Now a claim names
-- its process (announce_by) and lapses with that process's delivery lease of the poll; announced_at is set once the
-- platform took the reply.
alter table chat_messages add column announce_by text;
`,
  },
  {
    version: 16,
    name: 'one cast, its counters and the tally read look rows up by key, whatever the statistics say',
    sql: `
-- Migration 14 pinned the batch (lv_cast_set) to index probes; the one-cast path and the tally read kept plans
-- chosen from the statistics. On freshly analysed small tables three casts and a tally read scanned ballots,
-- idempotency, options, polls, questions, poll_shards and tally whole (30 sequential scans), and a session keeps such
-- a plan until the next analyse of the table, however far it grows meanwhile. Every one of their statements reads
-- by primary key or by the leading columns of one, so a sequential scan is never the right plan here. (Not on
-- lv_cast_commit: a procedure with a SET clause may not commit.)
alter function lv_cast_core(text, text, text, text, text, text, text[], text, int, boolean, boolean)
  set enable_seqscan = off;
alter function lv_cast(text, text, text, text, text, text, text[], text, int, boolean) set enable_seqscan = off;
alter function lv_cast_batch(jsonb, int, boolean) set enable_seqscan = off;
alter function lv_count(int, jsonb[]) set enable_seqscan = off;
alter function lv_tally(text) set enable_seqscan = off;
alter function lv_voter_key(text, text, text, text) set enable_seqscan = off;
`,
  },
  {
    version: 17,
    name: "a schedule's result announcement: claimed for a lease, marked made once sent",
    sql: `
-- announced_at was set when a process claimed the result announcement, before it was sent; a process that died in
-- between lost that day's announcement. Now a claim holds it until announce_until (a lease that lapses if its
-- holder dies), and announced_at is set once the destination took it.
alter table schedule_runs add column announce_until timestamptz;
`,
  },
  {
    version: 18,
    name: 'the tally read carries the close time, so a moved close reaches every screen and every cached copy',
    sql: `
-- A lunch poll extended for its quorum keeps its version line but moves its close time. Snapshots did not carry
-- the close time, so screens kept counting down to the old one (and showed "closed" while the poll took votes), and
-- a process's cached definition kept it too. lv_tally as in migration 13, plus closes_at (UTC, ISO 8601), with
-- migration 16's seqscan guard.
create or replace function lv_tally(p_poll text) returns jsonb language plpgsql stable
set enable_seqscan = off as $fn$
begin
  return (select jsonb_build_object(
    'status', case when p.status = 'open' and (p.closes_at is null or p.closes_at > now()) then 'open' else 'closed' end,
    -- Truncated to the millisecond, as the drivers read a timestamptz into a Date: equal to the definition's.
    'closes_at', to_char(date_trunc('milliseconds', p.closes_at) at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'),
    'version', (select coalesce(sum(s.changes), 0)::int from poll_shards s where s.poll_id = p.id),
    'voters', (select coalesce(sum(s.voters), 0)::int from poll_shards s where s.poll_id = p.id),
    'option_count', (select count(*)::int from options o where o.poll_id = p.id),
    'counts', (select coalesce(jsonb_object_agg(c.key, c.n), '{}'::jsonb)
      from (select t.key, sum(t.n)::int as n from tally t where t.poll_id = p.id group by t.key) c))
  from polls p where p.id = p_poll);
end
$fn$;
`,
  },
  {
    version: 19,
    name: 'a click on a multi-choice poll toggles its option in the store, atomically',
    sql: `
-- A Slack button on a poll where each person picks several adds its option to the clicker's choices, or takes it
-- off. The bot read the choices, then cast the new set: two clicks of one person handled by two bot processes could
-- each read the old set and the second cast would drop the first click's option. Now the store toggles, under the
-- voter's lock (the same advisory lock lv_cast_core takes; a transaction may take it again), from the ballot as it
-- is at that moment. A toggle's idempotency fingerprint is "poll|question|~option" (its resulting set is not known
-- in advance), so a redelivered click answers its first outcome and a key reused for another option is refused.
create function lv_cast_toggle(
  p_poll text, p_question text, p_platform text, p_tenant text, p_user text, p_emp text,
  p_option text, p_key text, p_shard int, p_audit boolean
) returns jsonb language plpgsql set enable_seqscan = off as $fn$
declare
  v_person text := lv_voter_key(p_platform, p_tenant, p_user, p_emp);
  v_anonymous boolean;
  v_voter text;
  v_key text;
  v_ttl interval := coalesce(nullif(current_setting('livevote.idempotency_ttl_ms', true), '')::bigint, 86400000)
    * interval '1 millisecond';
  v_fp text := p_poll || '|' || p_question || '|~' || p_option;
  v_stored record;
  v_prev text[];
  v_new text[];
  v_out jsonb;
begin
  perform pg_advisory_xact_lock(hashtextextended(p_poll || chr(31) || v_person, 0));
  select coalesce((p.settings->>'anonymous')::boolean, false) into v_anonymous from polls p where p.id = p_poll;
  if coalesce(v_anonymous, false) then
    v_voter := lv_anon(p_poll, 'voter', v_person);
    v_key := case when p_key is not null then lv_anon(p_poll, 'key', p_key) end;
  else
    v_voter := v_person;
    v_key := p_key;
  end if;
  if v_key is not null then
    select fingerprint, outcome, created_at into v_stored
      from idempotency where voter_key = v_voter and key = v_key;
    if found and v_stored.created_at > now() - v_ttl then
      if v_stored.fingerprint <> v_fp then
        return jsonb_build_object('ok', false, 'reason', 'idempotency_key_reused');
      end if;
      return v_stored.outcome || jsonb_build_object('replayed', true);
    end if;
  end if;
  select option_ids into v_prev from ballots
    where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
  v_new := case when p_option = any (coalesce(v_prev, '{}')) then array_remove(v_prev, p_option)
    else coalesce(v_prev, '{}') || p_option end;
  -- lv_cast checks the rest (open, option, max choices) and stores the key under the set's fingerprint: the
  -- toggle's replaces it.
  v_out := lv_cast(p_poll, p_question, p_platform, p_tenant, p_user, p_emp, v_new, p_key, p_shard, p_audit);
  if v_key is not null and (v_out->>'ok')::boolean then
    update idempotency set fingerprint = v_fp where voter_key = v_voter and key = v_key;
  end if;
  return v_out;
end
$fn$;

-- lv_cast_commit as in migration 13, with a toggle ({"toggle": true}, one option) going to lv_cast_toggle. A toggle
-- always comes alone (SqlStore sends it so).
create or replace procedure lv_cast_commit(
  p_casts jsonb, p_shard int, p_audit boolean, p_ttl_ms text, p_poll_keys text, inout r jsonb default null
) language plpgsql as $fn$
declare
  c jsonb := p_casts->0;
  v_outs jsonb;
begin
  perform set_config('livevote.idempotency_ttl_ms', p_ttl_ms, true);
  perform set_config('livevote.poll_keys', p_poll_keys, true);
  if jsonb_array_length(p_casts) = 1 and coalesce((c->>'toggle')::boolean, false) then
    v_outs := jsonb_build_array(lv_cast_toggle(c->>'poll', c->>'question', c->>'platform', c->>'tenant',
      c->>'user', c->>'emp', c->'options'->>0, c->>'key', p_shard, p_audit));
  elsif jsonb_array_length(p_casts) = 1 then
    v_outs := jsonb_build_array(lv_cast(c->>'poll', c->>'question', c->>'platform', c->>'tenant', c->>'user',
      c->>'emp', array(select jsonb_array_elements_text(c->'options')), c->>'key', p_shard, p_audit));
  else
    v_outs := lv_cast_set(p_casts, p_shard, p_audit);
  end if;
  commit;
  r := jsonb_build_object('outcomes', v_outs, 'tallies', (
    select coalesce(jsonb_object_agg(x.poll, lv_tally(x.poll)), '{}'::jsonb)
    from (select distinct e->>'poll' as poll from jsonb_array_elements(p_casts) e) x));
end
$fn$;
`,
  },
  {
    version: 20,
    name: 'one cast is one function: no nested calls, no counter deltas packed into JSON and unpacked again',
    sql: `
-- A vote alone (the common case at an office's pace) went lv_cast -> lv_cast_core -> lv_voter_key, then lv_count,
-- each a plpgsql call with its own SET clause, the counter changes built as JSON by one and taken apart by the other:
-- ~18 statements and expressions per vote. Measured at one call per 100 ms (pg_stat_user_functions, 188 calls):
-- lv_cast_core 0.58 ms of its own time, lv_count 0.30, of which the statements that read and write rows were
-- ~0.35. lv_cast now does the same work in one function: the person inline (the directory is read only without an
-- employee number), the gate row locked by the update that counts the change (its open flag checked by the same
-- statement, before any other write), one upsert for every tally key the change moves, "exists" for the other
-- question's ballot. Same checks in the same order, same answers, rows, audit documents and locks, taken in the
-- same order (voter lock, gate row, ballot, tally rows in key order). lv_cast_core stays for lv_cast_batch.
-- And a cast alone is called with its fields as parameters (lv_cast_commit_one), not as a JSON batch of one.
create or replace function lv_cast(
  p_poll text, p_question text, p_platform text, p_tenant text, p_user text, p_emp text,
  p_options text[], p_key text, p_shard int, p_audit boolean
) returns jsonb language plpgsql set enable_seqscan = off as $fn$
declare
  v_person text := case when p_emp is not null then 'emp:' || p_emp else coalesce(
    (select 'emp:' || d.emp_no from directory d
      where d.platform = p_platform and d.tenant = p_tenant and d.user_id = p_user),
    p_platform || ':' || p_tenant || ':' || p_user) end;
  v_voter text;
  v_key text;
  v_fp text;
  v_found boolean;
  v_status text;
  v_closes timestamptz;
  v_max int;
  v_anonymous boolean;
  v_prev text[];
  v_new text[] := case when cardinality(p_options) <= 1 then coalesce(p_options, '{}')
    else (select array_agg(o order by o) from unnest(p_options) o) end;
  v_dv int := 0;
  v_out jsonb;
  v_stored record;
begin
  v_fp := p_poll || '|' || p_question || '|' || array_to_string(v_new, ',');
  perform pg_advisory_xact_lock(hashtextextended(p_poll || chr(31) || v_person, 0));
  select p.status, p.closes_at, q.max_choices, coalesce((p.settings->>'anonymous')::boolean, false)
    into v_status, v_closes, v_max, v_anonymous
    from polls p left join questions q on q.poll_id = p.id and q.id = p_question where p.id = p_poll;
  v_found := found;
  if coalesce(v_anonymous, false) then
    v_voter := lv_anon(p_poll, 'voter', v_person);
    v_key := case when p_key is not null then lv_anon(p_poll, 'key', p_key) end;
  else
    v_anonymous := false;
    v_voter := v_person;
    v_key := p_key;
  end if;
  if v_key is not null then
    select fingerprint, outcome, created_at into v_stored
      from idempotency where voter_key = v_voter and key = v_key;
    if found then
      -- The caller passes the TTL as a transaction-local setting (see SqlStore); 24 hours when it doesn't.
      if v_stored.created_at > now() - coalesce(nullif(current_setting('livevote.idempotency_ttl_ms', true), '')::bigint,
          86400000) * interval '1 millisecond' then
        if v_stored.fingerprint <> v_fp then
          return jsonb_build_object('ok', false, 'reason', 'idempotency_key_reused');
        end if;
        return v_stored.outcome || jsonb_build_object('replayed', true);
      end if;
      delete from idempotency where voter_key = v_voter and key = v_key;
    end if;
  end if;
  if not v_found then return jsonb_build_object('ok', false, 'reason', 'unknown_poll'); end if;
  if v_status <> 'open' or v_closes <= now() then
    return jsonb_build_object('ok', false, 'reason', 'poll_closed');
  end if;
  if v_max is null then return jsonb_build_object('ok', false, 'reason', 'unknown_question'); end if;
  if cardinality(v_new) > 0 then
    if (select count(*) from options where poll_id = p_poll and question_id = p_question and id = any (v_new))
        <> cardinality(v_new) then
      if (select count(distinct o) from unnest(v_new) o) <> cardinality(v_new) then
        return jsonb_build_object('ok', false, 'reason', 'duplicate_option');
      end if;
      return jsonb_build_object('ok', false, 'reason', 'unknown_option');
    end if;
    if cardinality(v_new) > v_max then
      return jsonb_build_object('ok', false, 'reason', 'too_many_choices');
    end if;
  end if;
  select option_ids into v_prev from ballots
    where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
  if coalesce(v_prev, '{}') = v_new then
    v_out := jsonb_build_object('ok', true, 'replayed', false, 'option_ids', to_jsonb(v_new), 'changed', false);
  else
    if (v_prev is null or cardinality(v_new) = 0) and not exists (select 1 from ballots
        where poll_id = p_poll and voter_key = v_voter and question_id <> p_question) then
      v_dv := case when v_prev is null then 1 else -1 end;
    end if;
    update poll_shards set changes = changes + 1, voters = voters + v_dv
      where poll_id = p_poll and shard = p_shard and open;
    if not found then return jsonb_build_object('ok', false, 'reason', 'poll_closed'); end if;
    if cardinality(v_new) = 0 then
      delete from ballots where poll_id = p_poll and voter_key = v_voter and question_id = p_question;
    else
      insert into ballots (poll_id, voter_key, question_id, option_ids, platform)
        values (p_poll, v_voter, p_question, v_new, p_platform)
        on conflict (poll_id, voter_key, question_id)
        do update set option_ids = excluded.option_ids, platform = excluded.platform, cast_at = now();
    end if;
    insert into tally (poll_id, key, shard, n)
      select p_poll, d.key, p_shard, sum(d.n) from (
        select unnest(coalesce(v_prev, '{}')) as key, -1 as n
        union all select unnest(v_new), 1
        union all select '#' || p_question, case when v_prev is null then 1 when cardinality(v_new) = 0 then -1 else 0 end
      ) d group by d.key having sum(d.n) <> 0 order by d.key
      on conflict (poll_id, key, shard) do update set n = tally.n + excluded.n;
    v_out := jsonb_build_object('ok', true, 'replayed', false, 'option_ids', to_jsonb(v_new), 'changed', true);
  end if;
  if p_audit then
    insert into outbox (kind, poll_id, doc) values ('audit', p_poll, jsonb_build_object(
      'type', case when cardinality(v_new) = 0 then 'retract' else 'vote' end,
      'poll_id', p_poll, 'at', now(), 'question_id', p_question, 'option_ids', to_jsonb(v_new),
      'previous_option_ids', to_jsonb(coalesce(v_prev, '{}')), 'changed', v_out->'changed', 'platform', p_platform)
      || case when v_anonymous then '{}'::jsonb else jsonb_build_object('voter', v_voter, 'delivery_id', p_key) end);
  end if;
  if v_key is not null then
    insert into idempotency (voter_key, key, poll_id, fingerprint, outcome) values (v_voter, v_key, p_poll, v_fp, v_out);
  end if;
  return v_out;
end
$fn$;

-- lv_cast_commit for the common call: one cast that is not a toggle, given as parameters, so there is no JSON batch
-- to take apart nor a set query to find its polls. Commits the cast, then reads its poll's tally in a new
-- transaction (as lv_cast_commit does), only when the cast was accepted. Answers {"outcome": ..., "tally": ...}.
create procedure lv_cast_commit_one(
  p_poll text, p_question text, p_platform text, p_tenant text, p_user text, p_emp text, p_options text[],
  p_key text, p_shard int, p_audit boolean, p_ttl_ms text, p_poll_keys text, inout r jsonb default null
) language plpgsql as $fn$
declare
  v_out jsonb;
begin
  perform set_config('livevote.idempotency_ttl_ms', p_ttl_ms, true);
  perform set_config('livevote.poll_keys', p_poll_keys, true);
  v_out := lv_cast(p_poll, p_question, p_platform, p_tenant, p_user, p_emp, p_options, p_key, p_shard, p_audit);
  commit;
  r := jsonb_build_object('outcome', v_out, 'tally',
    case when (v_out->>'ok')::boolean then lv_tally(p_poll) end);
end
$fn$;
`,
  },
];
