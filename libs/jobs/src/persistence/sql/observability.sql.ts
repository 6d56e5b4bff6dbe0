/**
 * Statements of observability: the queue gauges, the health check, and progress writes. Parameters are
 * bound (and documented) by ObservabilityRepository.
 */

/**
 * Per queue: jobs due (`available` with `run_at <= now()`), scheduled (due later), running, and the age in
 * seconds of the oldest due job. One statement over the unfinished rows only (finished ones are filtered
 * by `state` first), read by the metrics gauges and the health check at a bounded rate (cached between
 * reads), never on the hot path. Ages use the database clock.
 */
export function queueStatsSql(schema: string): string {
  return `
    select queue,
           count(*) filter (where state = 'available' and run_at <= now())::int as available,
           count(*) filter (where state = 'available' and run_at > now())::int as scheduled,
           count(*) filter (where state = 'running')::int as running,
           coalesce(extract(epoch from now() - min(run_at) filter (
             where state = 'available' and run_at <= now()))::float8, 0) as "oldestAgeSeconds"
    from "${schema}".jobs
    where state in ('available', 'running')
    group by queue
    order by queue`;
}

/** How long ago (ms, database clock) this worker's row last heartbeated; no row when it has none. */
export function workerHeartbeatAgeSql(schema: string): string {
  return `
    select (extract(epoch from now() - last_heartbeat_at) * 1000)::float8 as "ageMs"
    from "${schema}".workers where id = $1`;
}

/**
 * Record a running attempt's progress. Fenced like every worker write (`id`, `locked_by`, `attempts`,
 * `running`): a late write of an attempt whose lease expired changes nothing.
 */
export function progressSql(schema: string): string {
  return `
    update "${schema}".jobs set progress = $4::jsonb
    where id = $1 and locked_by = $2 and attempts = $3 and state = 'running'
    returning id::text as id`;
}
