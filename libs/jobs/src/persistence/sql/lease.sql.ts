/**
 * Leases. A running job's `locked_until` is pushed forward by its worker's heartbeat; when a worker dies
 * the lease runs out and any worker's rescuer returns the job to the queue.
 */

/**
 * Extend the leases of the jobs this worker holds (by primary key: cheap however big the table). It
 * touches only `jobs`, never the workers table, so nothing that locks that table can hold leases back.
 */
export function heartbeatSql(schema: string): string {
  return `
    update "${schema}".jobs
    set locked_until = now() + $3 * interval '1 millisecond'
    where id = any($1::bigint[]) and locked_by = $2 and state = 'running'`;
}

/**
 * Record this worker process (visible for operations) and refresh its heartbeat. Run apart from the lease
 * extension and under a short `lock_timeout` (see WorkerRepository.upsertWorker).
 */
export function upsertWorkerSql(schema: string): string {
  return `
    insert into "${schema}".workers (id, hostname, pid, queues, concurrency)
    values ($1, $2, $3, $4, $5)
    on conflict (id) do update set last_heartbeat_at = now()`;
}

/** Remove this worker's row on shutdown. */
export function deleteWorkerSql(schema: string): string {
  return `delete from "${schema}".workers where id = $1`;
}

/**
 * Return jobs whose lease expired to the queue, or fail them when their attempts are used up (the attempt
 * was counted at claim). `run_at` is left alone so a rescued job keeps its place instead of waiting
 * behind the whole backlog. `skip locked` lets several rescuers run at once without blocking each other or a
 * worker that is finishing one of those rows right now. It touches only `jobs` (forgetting silent workers
 * is `forgetWorkersSql`), so a lock on the workers table cannot hold it, or the leases, back.
 */
export function rescueSql(schema: string): string {
  return `
    with expired as (
      select id from "${schema}".jobs
      where state = 'running' and locked_until < now()
      order by locked_until
      limit 1000
      for update skip locked
    ), err as (
      select jsonb_build_object('name', 'LeaseExpiredError', 'at', now(),
        'message', 'The worker running this attempt stopped heartbeating (crashed, killed or cut off) '
                   || 'and its lease expired.') as e
    )
    update "${schema}".jobs j
    set state = case when j.attempts >= j.max_attempts then 'failed' else 'available' end,
        finished_at = case when j.attempts >= j.max_attempts then now() end,
        last_error = err.e || jsonb_build_object('attempt', j.attempts, 'lockedBy', j.locked_by),
        errors = j.errors || jsonb_build_array(err.e || jsonb_build_object('attempt', j.attempts, 'lockedBy', j.locked_by)),
        locked_by = null, locked_until = null
    from expired, err
    where j.id = expired.id
    returning j.id::text as id, j.state`;
}

/** Forget workers whose last heartbeat is older than `$1` ms (they died without deleting their row). */
export function forgetWorkersSql(schema: string): string {
  return `
    delete from "${schema}".workers
    where last_heartbeat_at < now() - $1 * interval '1 millisecond'`;
}

/**
 * Bound how long the rest of the current transaction waits for a lock (`$1`, in ms, as text). Transaction
 * local, so it never leaks onto a pooled connection (and works through PgBouncer's transaction mode).
 */
export const LOCAL_LOCK_TIMEOUT_SQL = `select set_config('lock_timeout', $1, true)`;
