/**
 * SQLSTATEs after which the same statement may well pass if sent again: the connection or the server
 * was in trouble, or the statement lost a race, not its values. `08` connection exceptions; `40001`
 * serialization failure, `40P01` deadlock, `40003` completion unknown; `55P03` lock not available
 * (`lock_timeout`); `57014` query cancelled (`statement_timeout`); `57P01`–`57P05` admin or crash
 * shutdown, cannot connect now, idle session timeout; `53300` too many connections.
 */
const TRANSIENT_CLASSES = new Set(['08']);
const TRANSIENT_CODES = new Set([
  '40001',
  '40P01',
  '40003',
  '55P03',
  '57014',
  '57P01',
  '57P02',
  '57P03',
  '57P05',
  '53300',
]);

/** Socket errors of node (no SQLSTATE): the server could not be reached or the connection broke. */
const NODE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);

/** node-postgres's own messages for a connection lost or never obtained (they carry no code). */
const PG_CONNECTION_MESSAGE =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection ended unexpectedly/i;

/**
 * Whether retrying the statement that failed with `error` can help (`EnqueueFailedError.retryable`).
 * `false` for everything else: a constraint, a refused value, a missing table, bad credentials; sending
 * the same statement again would fail the same way.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (code.length === 5)
      return TRANSIENT_CODES.has(code) || TRANSIENT_CLASSES.has(code.slice(0, 2));
    if (NODE_NETWORK_CODES.has(code)) return true;
  }
  return typeof message === 'string' && PG_CONNECTION_MESSAGE.test(message);
}
