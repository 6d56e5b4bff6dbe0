/**
 * Claim runnable jobs for a worker and lease them (parameters: see WorkerRepository.claim).
 *
 * The sub-select walks `jobs_claim_idx` (priority, run_at, id over `state = 'available'` rows) in claim
 * order and stops after the limit; `for update skip locked` makes concurrent claimers (threads or hosts)
 * pass over each other's rows instead of queueing behind their locks, so two workers never get one job and
 * neither waits. It runs once (an init plan) and hands its ids to the update as one array, which finds
 * them through the primary key: cheaper than joining a CTE, measured at about 10 µs a job instead of 15.
 * The update marks the rows `running` and starts the attempt in the same statement: one round-trip, one
 * commit per batch. `attempts` is incremented here, at claim, so an attempt whose worker dies is still
 * counted and a job that kills its process cannot loop forever.
 *
 * With `filterPaused`, paused queues and accounts (`JobFlowControl`) come as the last two parameters,
 * the lists the worker holds (see `notPaused`): a filter on the rows the index scan reads, not a per-job
 * subquery. Without it (nothing paused, the usual case) the statement is exactly the one from before
 * pauses existed: the filter's generic plan can prefer a sequential scan of the table (measured: the
 * planner's default selectivity for `<> all($n)` on a freshly analyzed table), which the worker must
 * never run while nothing is paused.
 * With `unlimitedOnly` (while limits are configured, see `limited-claim.sql.ts`) only jobs without a
 * limit are claimed, through `jobs_unlimited_claim_idx`, whose predicate the filter repeats: a backlog
 * of limited jobs ahead in claim order is never read past.
 * `traceContext` (the enqueue's trace, for the attempt's span link) and `waitMs` (how long the job was
 * due before this claim, on the database clock) are read by observability only.
 *
 * The rows come back in claim order (an update returns them in whatever order it found them), with
 * columns named after the worker's `JobAttempt` fields, so they need no mapping.
 */
export function claimSql(
  schema: string,
  filterQueues: boolean,
  filterPaused = false,
  unlimitedOnly = false,
): string {
  return `
    with claimed as (
      update "${schema}".jobs j
      set state = 'running',
          attempts = j.attempts + 1,
          locked_by = $2,
          locked_until = now() + $3 * interval '1 millisecond',
          started_at = now()
      where j.id = any(array(
        select id from "${schema}".jobs
        where state = 'available' and run_at <= now()${filterQueues ? ' and queue = any($4::text[])' : ''}${unlimitedOnly ? `\n          and ${UNLIMITED}` : ''}
${filterPaused ? `          and ${notPaused(filterQueues ? 5 : 4)}\n` : ''}        order by priority, run_at, id
        limit $1
        for update skip locked
      ))
      returning j.id, j.name, j.queue, j.payload, j.account_id, j.attempts, j.max_attempts,
                j.priority, j.run_at, j.trace_context, j.unstarted_rescues, j.payload_rules
    )
    select id::text as id, name, queue, payload, account_id as "accountId", attempts as attempt,
           max_attempts as "maxAttempts", trace_context as "traceContext",
           unstarted_rescues as "unstartedRescues", payload_rules as "payloadRules",
           extract(epoch from now() - run_at)::float8 * 1000 as "waitMs"
    from claimed
    order by priority, run_at, id`;
}

/** Jobs without a concurrency or rate limit: the predicate of `jobs_unlimited_claim_idx`. */
export const UNLIMITED = 'concurrency_key is null and rate_key is null';

/**
 * The claims' filter of paused jobs: `$n` paused queues, `$n+1` paused accounts (global jobs as `''`,
 * which is never an account id), both arrays the worker reloads every poll interval and on a NOTIFY.
 * With nothing paused (the usual case) both are empty and the test costs next to nothing per row. A
 * paused backlog ahead of the runnable jobs in claim order is read past on every claim (one heap visit
 * per paused row, as for another queue's jobs with a queue filter): see the README, "Fairness and flow control" for its cost.
 */
export function notPaused(n: number, alias = ''): string {
  return (
    `${alias}queue <> all($${n}::text[]) ` +
    `and coalesce(${alias}account_id, '') <> all($${n + 1}::text[])`
  );
}
