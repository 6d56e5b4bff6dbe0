// Pause and resume (`JobFlowControl`): rows of `paused`, and the NOTIFY that tells every worker at once.

/**
 * Pause `$2` of kind `$1` (`'queue'` or `'account'`), idempotently. Returns one row when this call paused
 * it (none when it was paused already) and, in the same statement, notifies `$3` (the pause channel), so
 * every listening worker reloads its paused lists now instead of at its next poll.
 */
export function pauseSql(schema: string): string {
  return `
    with added as (
      insert into "${schema}".paused (kind, key) values ($1, $2)
      on conflict (kind, key) do nothing
      returning kind
    )
    select pg_notify($3, $1) from added`;
}

/** Resume `$2` of kind `$1`: the inverse of `pauseSql`, with the same row and NOTIFY on a change. */
export function resumeSql(schema: string): string {
  return `
    with removed as (
      delete from "${schema}".paused where kind = $1 and key = $2 returning kind
    )
    select pg_notify($3, $1) from removed`;
}

/**
 * Every pause, queues first, oldest first within a kind; with `$1` an account id, only the queues and
 * that account (what an account's own context may see); with `$1` null, all of them.
 */
export function listPausedSql(schema: string): string {
  return `
    select kind, key, paused_at as "pausedAt" from "${schema}".paused
    where $1::text is null or kind = 'queue' or key = $1
    order by kind desc, paused_at, key`;
}

/**
 * The worker's read of the paused lists, once per poll interval and on a NOTIFY: two arrays, so they are
 * passed to the claim as they come. A handful of rows (a primary key scan at worst).
 */
export function pausedListsSql(schema: string): string {
  return `
    select coalesce(array_agg(key) filter (where kind = 'queue'), '{}') as queues,
           coalesce(array_agg(key) filter (where kind = 'account'), '{}') as accounts
    from "${schema}".paused`;
}
