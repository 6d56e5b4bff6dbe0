/**
 * Claim up to `$1` runnable jobs for worker `$2`, leasing them for `$3` ms.
 *
 * The inner select walks `jobs_claim_idx` (priority, run_at, id over `state = 'available'` rows) in claim
 * order and stops after `$1` rows; `for update skip locked` makes concurrent claimers (threads or hosts)
 * pass over each other's rows instead of queueing behind their locks, so two workers never get one job and
 * neither waits. The outer update marks the rows `running` and starts the attempt in the same statement:
 * one round-trip, one commit per batch. `attempts` is incremented here, at claim, so an attempt whose
 * worker dies is still counted and a job that kills its process cannot loop forever. The returned columns
 * are named after the worker's `JobAttempt` fields, so its rows need no mapping.
 */
export function claimSql(schema: string, filterQueues: boolean): string {
  return `
    with next as (
      select id from "${schema}".jobs
      where state = 'available' and run_at <= now()${filterQueues ? ' and queue = any($4::text[])' : ''}
      order by priority, run_at, id
      limit $1
      for update skip locked
    )
    update "${schema}".jobs j
    set state = 'running',
        attempts = j.attempts + 1,
        locked_by = $2,
        locked_until = now() + $3 * interval '1 millisecond',
        started_at = now()
    from next
    where j.id = next.id
    returning j.id::text as id, j.name, j.queue, j.payload, j.account_id as "accountId",
              j.attempts as attempt, j.max_attempts as "maxAttempts"`;
}
