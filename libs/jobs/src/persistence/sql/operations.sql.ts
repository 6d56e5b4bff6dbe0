// Operations statements (look-ups, admin, purging): off the hot path, shaped to use the indexes anyway.
//
// Tenant scoping: every operation takes an account parameter and matches `account_id` in the statement
// itself (`ACCOUNT_MATCH`), so another account's row is never read, locked or changed, rather than
// read and then filtered in node. A null parameter means every account (system code, `allAccounts`).
// These statements are sent unnamed, so PostgreSQL plans each execution with its actual parameters and
// the `$n is null or` branch folds away: an id look-up stays a primary-key look-up.

/** The account predicate on parameter `$n`: that account's rows only, or every row when it is null. */
function accountMatch(n: number, alias = ''): string {
  return `($${n}::text is null or ${alias}account_id = $${n})`;
}

/** One job by id (`$1`) in the account `$2`, with the database clock (to report `scheduled` by its time). */
export function findSql(schema: string): string {
  return `select *, id::text as id, now() as db_now from "${schema}".jobs where id = $1 and ${accountMatch(2)}`;
}

/**
 * Job counts by queue and state in the account `$1`, `scheduled` (available, due later) counted apart
 * from `available`, and whether each queue is paused (one primary-key probe of `paused` per row of the
 * result). A scan of the account's rows (or of the table): an operations query, not a hot one.
 */
export function countByStateSql(schema: string): string {
  return `
    select queue,
           case when state = 'available' and run_at > now() then 'scheduled' else state end as state,
           count(*) as count,
           exists (select from "${schema}".paused p where p.kind = 'queue' and p.key = queue) as paused
    from "${schema}".jobs where ${accountMatch(1)} group by 1, 2 order by 1, 2`;
}

/**
 * Retry a `failed` or `cancelled` job by hand (`$1`, in the account `$3`): runnable now, with one more
 * attempt allowed. One statement: the job becomes available and idle workers are woken (`$2` = the
 * enqueue channel), or neither happens. Raises a unique violation when an unfinished job holds its key.
 */
export function retrySql(schema: string): string {
  return `
    with retried as (
      update "${schema}".jobs
      set state = 'available', run_at = now(), finished_at = null,
          max_attempts = greatest(max_attempts, attempts + 1)
      where id = $1 and state in ('failed', 'cancelled') and ${accountMatch(3)} returning id
    )
    select id, pg_notify($2, '') from retried`;
}

/** Delete a `failed` or `cancelled` job (`$1`, in the account `$2`) for good. */
export function discardSql(schema: string): string {
  return `
    delete from "${schema}".jobs
    where id = $1 and state in ('failed', 'cancelled') and ${accountMatch(2)} returning id`;
}

/**
 * Failed jobs, newest first, keyset-paginated on id (`$1` = the last id of the previous page, or null),
 * filtered by name and queue when those are given, in the account `$4` (the partial index on
 * (account_id, id) of failed jobs serves both the scoped and the unscoped form).
 */
export function listFailedSql(schema: string): string {
  return `
    select j.*, j.id::text as id, now() as db_now from "${schema}".jobs j
    where state = 'failed'
      and ($1::bigint is null or j.id < $1)
      and ($2::text is null or name = $2)
      and ($3::text is null or queue = $3)
      and ${accountMatch(4, 'j.')}
    order by j.id desc
    limit $5`;
}

/**
 * Delete up to `$3` finished jobs of the given states that finished before now() - `$2` ms. Batched so a
 * large purge never holds many row locks or bloats one transaction; the caller loops until it deletes
 * fewer than the batch. `skip locked` leaves rows another purger is deleting to it. With `byAccount`
 * (the operation, not the worker's retention sweep) only the account `$4`'s rows, or all when it is null.
 */
export function purgeSql(schema: string, byAccount = false): string {
  return `
    with doomed as (
      select id from "${schema}".jobs
      where state = any($1::text[]) and finished_at < now() - $2 * interval '1 millisecond'
        ${byAccount ? `and ${accountMatch(4)}` : ''}
      limit $3
      for update skip locked
    )
    delete from "${schema}".jobs j using doomed where j.id = doomed.id`;
}

const PURGE_BATCH = 5_000;

/**
 * Runs `purgeSql` (scoped to `account`, null for every account) batch after batch until nothing is left
 * to delete; returns how many rows went.
 */
export async function purgeFinished(
  query: (text: string, values: unknown[]) => Promise<unknown[]>,
  schema: string,
  states: readonly string[],
  olderThanMs: number,
  account: string | null,
): Promise<number> {
  let total = 0;
  const text = `${purgeSql(schema, true)} returning j.id`;
  for (;;) {
    const rows = await query(text, [states, olderThanMs, PURGE_BATCH, account]);
    total += rows.length;
    if (rows.length < PURGE_BATCH) return total;
  }
}

/**
 * Cancel a job (`$1`, in the account `$2`) that has not finished. A running one is cancelled in the
 * database first (so its worker's completion is fenced out), then its worker is told through NOTIFY to
 * abort the attempt's signal. Another account's row is not even locked.
 */
export function cancelSql(schema: string, channel: string): string {
  return `
    with cancelled as (
      update "${schema}".jobs j
      set state = 'cancelled', finished_at = now(), locked_by = null, locked_until = null
      from (select id, state from "${schema}".jobs where id = $1 and ${accountMatch(2)} for update) before
      where j.id = before.id and before.state in ('available', 'running')
      returning j.id, before.state as previous_state
    )
    select c.previous_state,
           case when c.previous_state = 'running' then pg_notify('${channel}', c.id::text) end as notified
    from cancelled c`;
}
