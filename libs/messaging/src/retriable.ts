/**
 * Is retrying the same message after a pause likely to succeed? Used by the consumer loop to
 * choose between "back off and retry in place" and "dead-letter now".
 *
 * 1. An error that carries a boolean `retriable` (kafkajs errors, contract violations, our own
 *    typed errors) decides for itself.
 * 2. Known transient infrastructure failures are retriable: node socket errors, PostgreSQL
 *    connection / serialization / deadlock / resource / shutdown SQLSTATEs, and node-postgres'
 *    own "connection terminated" errors (which carry no code).
 * 3. Everything else — TypeError, RangeError, a plain Error from a bug — is not: redelivering the
 *    same bytes to the same code fails the same way.
 *
 * Wrappers are looked through: `cause` (ES2022, MessagingError) and `driverError` (TypeORM's
 * QueryFailedError), to a bounded depth.
 */
export function isRetriable(err: unknown): boolean {
  return classify(err, 0) ?? false;
}

/** Node socket / DNS errors that mean "the other side is (temporarily) not there". */
export const TRANSIENT_NODE_CODES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** PostgreSQL SQLSTATEs worth retrying: whole classes by their two-character prefix, or exact codes. */
export const TRANSIENT_SQLSTATE_CLASSES: readonly string[] = ['08', '53'];
export const TRANSIENT_SQLSTATES: ReadonlySet<string> = new Set(['40001', '40P01', '57P01', '57P02', '57P03']);

/** node-postgres and pg-pool throw these without a code when a connection dies or cannot be had. */
const TRANSIENT_PG_MESSAGES = [
  /^Connection terminated unexpectedly$/,
  /^Connection terminated due to connection timeout$/,
  /^Connection terminated$/,
  /^timeout exceeded when trying to connect$/,
  /^Client network socket disconnected before secure TLS connection was established$/,
];

const MAX_DEPTH = 5;

function classify(err: unknown, depth: number): boolean | undefined {
  if (err === null || typeof err !== 'object' || depth > MAX_DEPTH) return undefined;
  const e = err as { retriable?: unknown; code?: unknown; message?: unknown; cause?: unknown; driverError?: unknown };
  if (typeof e.retriable === 'boolean') return e.retriable;
  if (typeof e.code === 'string') {
    if (TRANSIENT_NODE_CODES.has(e.code)) return true;
    if (isSqlState(e.code)) return isTransientSqlState(e.code);
  }
  if (typeof e.message === 'string' && TRANSIENT_PG_MESSAGES.some((re) => re.test(e.message as string))) return true;
  return classify(e.driverError, depth + 1) ?? classify(e.cause, depth + 1);
}

function isSqlState(code: string): boolean {
  return /^[0-9A-Z]{5}$/.test(code) && /^[0-9]/.test(code);
}

export function isTransientSqlState(code: string): boolean {
  return TRANSIENT_SQLSTATES.has(code) || TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2));
}
