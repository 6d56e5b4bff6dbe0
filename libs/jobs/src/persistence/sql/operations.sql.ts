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
 * Delete up to `$3` jobs in the finished state `$1` that finished before now() - `$2` ms and not before
 * `$4` (a `timestamptz` as text, null for no bound), oldest first; one row back: how many went and the
 * newest `finished_at` among them, as text (exact to the microsecond, unlike a JavaScript Date).
 *
 * Why this shape (issue 16, measured on 1,000,000 and 10,000,000 finished rows):
 * - It walks `jobs_finished_idx` (state, finished_at) in order and stops after the batch. The explicit
 *   `state in (…finished states)` is the index's predicate: without it a generic plan (`state = $1`)
 *   cannot prove the partial index applies and sorts a sequential scan of the table instead.
 * - The caller passes the previous batch's newest `finished_at` back as `$4` (keyset), so each batch
 *   starts where the last one stopped instead of reading past every row deleted so far. Without it each
 *   batch re-reads the dead rows (and index entries) of all batches before it until VACUUM removes them:
 *   a sweep of 740,000 rows slowed from 40 ms to 300 ms a batch (24,000 rows/s), where the keyset keeps
 *   14 ms a batch (320,000 rows/s). `>=` keeps rows that share the boundary's timestamp; a row skipped
 *   because it was locked is left to the next sweep, which starts from no bound again.
 * - Batched so a large purge never holds many row locks or bloats one transaction; `skip locked` leaves
 *   rows another purger is deleting to it. Finished rows are never locked by a claim, a heartbeat or a
 *   completion, so none of those waits for a batch.
 * With `byAccount` (the operation, not the worker's retention sweep) only the account `$5`'s rows, or
 * all when it is null.
 */
export function purgeSql(schema: string, byAccount = false): string {
  return `
    with gone as (
      delete from "${schema}".jobs j
      where j.id = any(array(
        select id from "${schema}".jobs
        where state = $1 and state in ('completed', 'failed', 'cancelled')
          and finished_at < now() - $2 * interval '1 millisecond'
          and finished_at >= coalesce($4::timestamptz, '-infinity')
          ${byAccount ? `and ${accountMatch(5)}` : ''}
        order by finished_at
        limit $3
        for update skip locked
      ))
      returning j.finished_at
    )
    select count(*)::int as deleted, max(finished_at)::text as last from gone`;
}

/** What one batch of `purgeSql` deleted: how many rows, and the newest `finished_at` among them. */
export interface PurgeBatch {
  deleted: number;
  /** The next batch's `$4`; null when nothing was deleted. */
  last: string | null;
}

const PURGE_BATCH = 5_000;

/**
 * Runs `purgeSql` (scoped to `account`, null for every account) state by state, batch after batch, each
 * starting where the previous one stopped, until a batch comes back short; returns how many rows went.
 */
export async function purgeFinished(
  query: (text: string, values: unknown[]) => Promise<unknown[]>,
  schema: string,
  states: readonly string[],
  olderThanMs: number,
  account: string | null,
): Promise<number> {
  let total = 0;
  const text = purgeSql(schema, true);
  for (const state of states) {
    let after: string | null = null;
    for (;;) {
      const [batch] = (await query(text, [state, olderThanMs, PURGE_BATCH, after, account])) as [
        PurgeBatch,
      ];
      total += batch.deleted;
      if (batch.deleted < PURGE_BATCH) break;
      after = batch.last;
    }
  }
  return total;
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
