/**
 * Leases. A running job's `locked_until` is pushed forward by its worker's heartbeat; when a worker dies
 * the lease runs out and any worker's rescuer returns the job to the queue.
 */

/** Extend the leases of the jobs this worker holds (by primary key: cheap however big the table). */
export function heartbeatSql(schema: string): string {
  return `
    update "${schema}".jobs
    set locked_until = now() + $3 * interval '1 millisecond'
    where id = any($1::bigint[]) and locked_by = $2 and state = 'running'`;
}

/** Record this worker process (visible for operations) and refresh its heartbeat. */
export function upsertWorkerSql(schema: string): string {
  return `
    insert into "${schema}".workers (id, hostname, pid, queues, concurrency)
    values ($1, $2, $3, $4, $5)
    on conflict (id) do update set last_heartbeat_at = now()`;
}

export function deleteWorkerSql(schema: string): string {
  return `delete from "${schema}".workers where id = $1`;
}

/**
 * Return jobs whose lease expired to the queue, or fail them when their attempts are used up (the attempt
 * was counted at claim). `run_at` is left alone so a rescued job keeps its place instead of waiting
 * behind the whole backlog. `skip locked` lets several rescuers run at once without blocking each other or a
 * worker that is finishing one of those rows right now. Also forgets workers silent for 10 leases.
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
    ), forget as (
      delete from "${schema}".workers
      where last_heartbeat_at < now() - 10 * $1 * interval '1 millisecond'
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
