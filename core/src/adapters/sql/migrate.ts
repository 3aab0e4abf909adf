import { MIGRATIONS, type Migration, type MigrationContext } from './migrations.ts';
import type { SqlDriver } from './sql-driver.ts';

const MIGRATION_LOCK = 7_270_001; // any constant; only our migrations take it

/** Applies every migration not yet applied, in one transaction. Returns the versions it applied. */
export async function migrate(
  driver: SqlDriver,
  migrations: Migration[] = MIGRATIONS,
  ctx: MigrationContext = {},
): Promise<number[]> {
  return driver.transaction(async (tx) => {
    await tx.query('select pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.exec(`create table if not exists schema_migrations (
      version int primary key, name text not null, applied_at timestamptz not null default now())`);
    const done = new Set(
      (await tx.query<{ version: number }>('select version from schema_migrations')).map((r) => r.version),
    );
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await tx.exec(m.sql);
      await m.after?.(tx, ctx);
      await tx.query('insert into schema_migrations (version, name) values ($1, $2)', [m.version, m.name]);
      applied.push(m.version);
    }
    return applied;
  });
}
