export * from './adapters/memory-archive.ts';
export * from './adapters/memory-bus.ts';
export { createPgliteStore, pgliteDriver } from './adapters/pglite/pglite-store.ts';
export { createPgStore, pgDriver } from './adapters/postgres/pg-store.ts';
export * from './adapters/redis-bus.ts';
export { ANON_PREFIX, ANONYMITY_KEY_MIN_LENGTH, PollKeys } from './adapters/sql/anonymity.ts';
export {
  CredentialCipher,
  CredentialCipherError,
  ENCRYPTION_KEY_MIN_LENGTH,
} from './adapters/sql/credential-cipher.ts';
export { SqlInstallationStore, type SqlInstallationStoreOptions } from './adapters/sql/installation-store.ts';
export { migrate } from './adapters/sql/migrate.ts';
export { MIGRATIONS, type MigrationContext, SHARDS } from './adapters/sql/migrations.ts';
export type { SqlDriver } from './adapters/sql/sql-driver.ts';
export { SqlStore, type SqlStoreOptions } from './adapters/sql/sql-store.ts';
export { isStoreUnavailable, loggableError, storeError } from './adapters/sql/store-errors.ts';
export * from './app/at-most-every.ts';
export * from './app/cast-vote.ts';
export * from './app/catalog.ts';
export * from './app/chat-polls.ts';
export * from './app/core.ts';
export * from './app/directory.ts';
export * from './app/event-path.ts';
export * from './app/manage-polls.ts';
export * from './app/outbox-drain.ts';
export * from './app/pace.ts';
export * from './app/snapshots.ts';
export * from './app/store-error-log.ts';
export * from './app/todays-lunch-poll.ts';
export * from './app/turnout-timeline.ts';
export * from './domain/ballot-rules.ts';
export * from './domain/close-time.ts';
export * from './domain/demo-lunch.ts';
export * from './domain/history.ts';
export * from './domain/poll-definition.ts';
export * from './domain/poll-id.ts';
export * from './domain/result.ts';
export * from './domain/tally.ts';
export * from './domain/voter.ts';
export * from './domain/workspace.ts';
export * from './identity/voter-token.ts';
export * from './ports/archive.ts';
export type * from './ports/bus.ts';
export type * from './ports/installations.ts';
export type * from './ports/rate-limit.ts';
export type * from './ports/store.ts';
export * from './protocol/index.ts';
