/**
 * Leases. A running job's `locked_until` is pushed forward by its worker's heartbeat; when a worker dies
 * the lease runs out and any worker's rescuer returns the job to the queue.
 */

/**
 * Extend the leases of the jobs this worker holds (by primary key: cheap however big the table). It
 * touches only `jobs`, never the workers table, so nothing that locks that table can hold leases back.
 * Nor can a lock on one of its rows: `skip locked` passes over a row another statement holds right now
 * (this worker's completion batch, a cancel), so the extension never waits and never deadlocks with
 * them; a completion that then fails leaves the row to the next heartbeat.
 *
 * It also writes the start marks not yet written (`$4` ids, `$5` attempts: jobs that started since the
 * last heartbeat and are still running; see `StartMarkBook`), in the same update; the look-up scans a few
 * elements per row (the marks are at most the jobs started since the last heartbeat).
 */
export function heartbeatSql(schema: string): string {
  return `
    update "${schema}".jobs j
    set locked_until = now() + $3 * interval '1 millisecond',
        started_attempt = coalesce(
          (select m.attempts from unnest($4::bigint[], $5::int[]) as m(id, attempts)
           where m.id = j.id and m.attempts = j.attempts limit 1),
          j.started_attempt)
    where j.id = any(array(
      select id from "${schema}".jobs
      where id = any($1::bigint[]) and locked_by = $2 and state = 'running'
      for update skip locked
    ))`;
}

/**
 * Record that attempts have started, before they perform (`$1` ids, `$2` attempts, `$3` worker id). Only
 * for jobs a rescue once returned unstarted: such a job may be one that kills its process as soon as it
 * starts, before a lazy mark could be written, so its start is made durable first and its next crash
 * counts. Every other job's mark rides on a heartbeat (`heartbeatSql`). Fenced like every statement on
 * a running job; returns the ids it marked.
 */
export function markStartedSql(schema: string): string {
  return `
    update "${schema}".jobs j
    set started_attempt = d.attempts
    from unnest($1::bigint[], $2::int[]) as d(id, attempts)
    where j.id = d.id and j.attempts = d.attempts and j.locked_by = $3 and j.state = 'running'
    returning j.id::text as id`;
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
 * A job returned unstarted this many times fails: the bound on a job that kills its process before its
 * start can be recorded (say while it is claimed or its payload is read). A job that kills its process
 * while performing is bounded by its attempts instead: once returned unstarted, its start is recorded
 * before it performs (`markStartedSql`). Generous, because a job buffered behind a job that crashes
 * its worker is returned unstarted once per crash (at most that job's attempts, 25 by default).
 */
export const UNSTARTED_RESCUE_LIMIT = 50;

/**
 * Return jobs whose lease expired to the queue, or fail them when their attempts are used up. The
 * attempt was counted at claim; it stays counted only if the job had started (`started_attempt =
 * attempts`, see `heartbeatSql`/`markStartedSql`). A job that had not (it sat in the dead
 * worker's buffer, or its start mark had not been written yet) gets its attempt back (`attempts - 1`) and
 * one more `unstarted_rescues`; past `UNSTARTED_RESCUE_LIMIT` of those it fails. Either way the rescue is
 * appended to `errors` (with `counted`), so every re-run has a recorded cause; `last_error` is only set
 * when the attempt counts.
 *
 * `run_at` is left alone so a rescued job keeps its place instead of waiting behind the whole backlog.
 * `skip locked` lets several rescuers run at once without blocking each other or a worker that is
 * finishing one of those rows right now. It touches only `jobs` (forgetting silent workers is
 * `forgetWorkersSql`), so a lock on the workers table cannot hold it, or the leases, back.
 */
export function rescueSql(schema: string): string {
  return `
    with expired as (
      select id, started, not started and unstarted_rescues + 1 >= ${UNSTARTED_RESCUE_LIMIT} as exhausted
      from (
        select id, unstarted_rescues, started_attempt is not distinct from attempts as started
        from "${schema}".jobs
        where state = 'running' and locked_until < now()
        order by locked_until
        limit 1000
        for update skip locked
      ) held
    ), rescued as (
      select id, started, exhausted, started or exhausted as counted,
        jsonb_build_object('name', 'LeaseExpiredError', 'at', now(), 'counted', started or exhausted,
          'message', case
            when started then 'The worker running this attempt stopped heartbeating (crashed, killed or '
                              || 'cut off) and its lease expired.'
            when exhausted then 'The job was returned unstarted ${UNSTARTED_RESCUE_LIMIT} times by '
                              || 'workers that stopped heartbeating while holding it (it may kill its '
                              || 'process before it starts); failed so that it cannot loop.'
            else 'The worker holding this job stopped heartbeating before the job started (or before '
                 || 'its start was recorded); returned to the queue without counting the attempt.'
          end) as e
      from expired
    )
    update "${schema}".jobs j
    set state = case when r.exhausted or r.started and j.attempts >= j.max_attempts
                     then 'failed' else 'available' end,
        finished_at = case when r.exhausted or r.started and j.attempts >= j.max_attempts
                           then now() end,
        attempts = case when r.counted then j.attempts else j.attempts - 1 end,
        unstarted_rescues = case when r.started then j.unstarted_rescues
                                 else j.unstarted_rescues + 1 end,
        last_error = case when r.counted
                          then r.e || jsonb_build_object('attempt', j.attempts, 'lockedBy', j.locked_by)
                          else j.last_error end,
        errors = j.errors || jsonb_build_array(
                   r.e || jsonb_build_object('attempt', j.attempts, 'lockedBy', j.locked_by)),
        started_at = case when r.counted then j.started_at end,
        started_attempt = null,
        locked_by = null, locked_until = null
    from rescued r
    where j.id = r.id
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
