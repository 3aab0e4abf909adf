// The little that the SQL store needs from a Postgres client; pg.Pool and PGlite each get a few-line driver.

export interface SqlTx {
  query<R>(text: string, params?: unknown[]): Promise<R[]>;
  /** A multi-statement script without parameters (migrations). */
  exec(script: string): Promise<void>;
}

export interface SqlDriver {
  query<R>(text: string, params?: unknown[]): Promise<R[]>;
  /** Runs fn inside one transaction on one connection: commit when it resolves, roll back when it throws. */
  transaction<T>(fn: (tx: SqlTx) => Promise<T>): Promise<T>;
}
