/**
 * Whether an error means the database cannot be reached right now (it is restarting, the
 * network dropped the connection, no connection could be had in time), as opposed to a query
 * that is wrong or a rule the data breaks. The API answers the first kind with 503 and a
 * Retry-After: nothing was recorded for certain, and the same request may be sent again (event
 * ids make a retry safe).
 *
 * The drivers report these failures in several shapes, all recognised here: Node socket error
 * codes, PostgreSQL SQLSTATEs of the connection-exception and operator-intervention classes,
 * pg's own messages for a dropped or timed-out connection, and EventStoreDB's gRPC
 * `unavailable`/`deadline-exceeded`. Causes (`error.cause`, AggregateError's `errors`) are
 * followed, since a driver often wraps the socket's error in its own.
 *
 * @example
 * isStoreUnavailable(Object.assign(new Error('terminating connection'), { code: '57P01' })); // true
 * isStoreUnavailable(Object.assign(new Error('syntax error'), { code: '42601' })); // false
 */
export function isStoreUnavailable(error: unknown): boolean {
  return someInChain(error, 0, isUnavailableItself);
}

/** Socket failures: the server refused, reset or never answered the connection. */
const SOCKET_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'ENETDOWN',
  'EAI_AGAIN',
]);

/**
 * SQLSTATEs of a server that is going away or not there yet: admin_shutdown (a restart or
 * pg_terminate_backend), crash_shutdown, cannot_connect_now (starting up or in recovery),
 * idle_session_timeout, too_many_connections. Class 08 (connection exception) is matched whole.
 */
const UNAVAILABLE_SQLSTATES: ReadonlySet<string> = new Set([
  '57P01',
  '57P02',
  '57P03',
  '57P05',
  '53300',
]);

/** What pg and pg-pool say, without a code, when a connection is lost or cannot be had. */
const DRIVER_MESSAGES: readonly RegExp[] = [
  /^Connection terminated( unexpectedly| due to connection timeout)?$/,
  /^timeout exceeded when trying to connect$/,
  /^Client has encountered a connection error and is not queryable$/,
  /^Client was closed and is not queryable$/,
  /^Query read timeout$/,
];

/** EventStoreDB client errors (`@eventstore/db-client` CommandError `type`). */
const ESDB_TYPES: ReadonlySet<string> = new Set(['unavailable', 'deadline-exceeded']);

const MAX_DEPTH = 5;

function isUnavailableItself(error: object): boolean {
  const { code, message, type } = error as { code?: unknown; message?: unknown; type?: unknown };
  if (typeof code === 'string') {
    if (SOCKET_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  if (typeof message === 'string' && DRIVER_MESSAGES.some((m) => m.test(message))) return true;
  return error instanceof Error && typeof type === 'string' && ESDB_TYPES.has(type);
}

function someInChain(error: unknown, depth: number, test: (error: object) => boolean): boolean {
  if (typeof error !== 'object' || error === null || depth > MAX_DEPTH) return false;
  if (test(error)) return true;
  const { cause, errors } = error as { cause?: unknown; errors?: unknown };
  if (someInChain(cause, depth + 1, test)) return true;
  return Array.isArray(errors) && errors.some((e) => someInChain(e, depth + 1, test));
}
