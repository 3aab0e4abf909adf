// The one place that tells "Postgres is not there right now" from a bug, and decides what of a driver error may
// reach a log line. Every edge (HTTP, WebSocket, SSE, Slack, Teams) and every background loop asks here, so an
// outage is answered the same way everywhere: 503 + Retry-After, or a "try again" chat message, and throttled logs.

/**
 * SQLSTATEs that mean the server cannot serve us at the moment, not that our statement is wrong: class 08
 * (connection exception), class 53 (insufficient resources, e.g. too many connections), 57P01-57P03 (shut down,
 * crashed, not accepting connections yet), 57014 (our statement_timeout cancelled the statement: the server is
 * overloaded or something holds our locks) and 25P03 (idle_in_transaction_session_timeout ended the session).
 */
const UNAVAILABLE_SQLSTATE = /^(08|53)[0-9A-Z]{3}$|^(57P01|57P02|57P03|57014|25P03)$/;

/** Socket errors on the way to the server. */
const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
]);

/** What node-postgres says (without a code) when a connection died, never came up or a query timed out. */
const DRIVER_MESSAGES =
  /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout|Client has encountered a connection error and is not queryable)/;

const fromStore = new WeakSet<object>();

/**
 * Marks an error as raised by the Postgres driver. Only those can mean "the store is unavailable": a refused
 * connection to Slack, Teams or MongoDB looks the same (ECONNREFUSED) but is not a store outage. Returns it.
 */
export function storeError<E>(err: E): E {
  if (typeof err === 'object' && err !== null) fromStore.add(err);
  return err;
}

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  cause?: unknown;
  /** Bolt wraps a listener's error in `original` (several: `originals`); Node's AggregateError in `errors`. */
  original?: unknown;
  originals?: unknown;
  errors?: unknown;
}

/**
 * Whether this error (or one it wraps) is the store's driver saying the store is unreachable or not answering: a
 * 503 and "try again", not a 500.
 */
export function isStoreUnavailable(err: unknown, depth = 0, driver = false): boolean {
  if (typeof err !== 'object' || err === null || depth > 4) return false;
  const e = err as ErrorLike;
  const ours = driver || fromStore.has(err);
  if (ours && typeof e.code === 'string' && (NETWORK_CODES.has(e.code) || UNAVAILABLE_SQLSTATE.test(e.code)))
    return true;
  if (ours && typeof e.message === 'string' && DRIVER_MESSAGES.test(e.message)) return true;
  // What the driver's error wraps is the driver's too; what Bolt wraps is marked (or not) by itself.
  const causes = [e.cause, ...(Array.isArray(e.errors) ? e.errors : [])];
  const wrapped = [e.original, ...(Array.isArray(e.originals) ? e.originals : [])];
  return (
    causes.some((x) => isStoreUnavailable(x, depth + 1, ours)) ||
    wrapped.some((x) => isStoreUnavailable(x, depth + 1, false))
  );
}

interface PgErrorLike {
  code: string;
  severity: string;
  message: string;
  routine?: string;
}
const isPgError = (e: unknown): e is PgErrorLike =>
  typeof e === 'object' &&
  e !== null &&
  typeof (e as PgErrorLike).code === 'string' &&
  typeof (e as PgErrorLike).severity === 'string';

/**
 * An error as it may appear in a log line (log it as `error`, not `err`: pino reshapes anything under `err`). A Postgres error is cut to code, severity, routine and message: its
 * `detail` names key values (`Key (voter_key)=(emp:123)`), its `where` quotes JSON parameters, and a data error's
 * message ends in the offending value (`invalid input syntax for type integer: "emp:123"`), so that is cut too.
 * Other errors keep their stack (they are bugs, and our own messages carry no voter data).
 */
export function loggableError(err: unknown): Record<string, unknown> | string {
  if (isPgError(err)) {
    return {
      type: 'DatabaseError',
      code: err.code,
      severity: err.severity,
      ...(err.routine ? { routine: err.routine } : {}),
      message: err.message.replace(/:\s*".*"\s*$/s, ': "…"'),
    };
  }
  if (err instanceof Error) {
    const code = (err as ErrorLike).code;
    return {
      type: err.name,
      ...(typeof code === 'string' ? { code } : {}),
      message: err.message,
      ...(isStoreUnavailable(err) ? {} : { stack: err.stack }),
    };
  }
  return String(err).slice(0, 500);
}
