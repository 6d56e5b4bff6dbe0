/**
 * SQLSTATE classes of errors caused by the values a statement carries rather than by the connection or
 * the server's state: `22` data exception (an unstorable string, a number or interval out of range), `54`
 * program limit exceeded (a value too large). Sending the same values again fails the same way; any other
 * error (a dropped connection, a timeout, a restart, a deadlock) may pass on a retry.
 */
const ROW_ERROR_CLASSES = new Set(['22', '54']);

/** True when `error` is PostgreSQL refusing the values of a statement, so retrying them as they are is pointless. */
export function isDataError(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.length === 5 && ROW_ERROR_CLASSES.has(code.slice(0, 2));
}
