/**
 * The exactly-once guard of recurring ticks. Every replica's tick tries to insert the same
 * (schedule_key, fire_time) row in the transaction that enqueues the tick's jobs. The primary key lets one
 * insert win; a concurrent one waits on the winner's uncommitted row, then gets no row back (`do nothing`)
 * and reads the job ids the winner recorded. If the winner rolls back, the waiter inserts instead: a tick
 * is neither lost nor doubled.
 */
export function claimTickSql(schema: string): string {
  return `
    insert into "${schema}".recurring_executions (schedule_key, fire_time) values ($1, $2)
    on conflict (schedule_key, fire_time) do nothing
    returning schedule_key`;
}

/** The job ids a tick's winner recorded (`$1` schedule key, `$2` fire time). */
export function tickJobIdsSql(schema: string): string {
  return `
    select job_ids::text[] as job_ids from "${schema}".recurring_executions
    where schedule_key = $1 and fire_time = $2`;
}

/** Records the job ids a tick enqueued (`$3`), in the transaction that enqueued them. */
export function recordTickJobIdsSql(schema: string): string {
  return `
    update "${schema}".recurring_executions set job_ids = $3::bigint[]
    where schedule_key = $1 and fire_time = $2`;
}

/** The newest recorded tick of a schedule (to find ticks missed while every replica was down). */
export function lastTickSql(schema: string): string {
  return `select max(fire_time) as fire_time from "${schema}".recurring_executions where schedule_key = $1`;
}

/**
 * Forget ticks older than `$1` ms, except each schedule's newest, which the missed-tick check reads
 * however long ago it was.
 */
export function purgeTicksSql(schema: string): string {
  return `
    delete from "${schema}".recurring_executions r
    where r.fire_time < now() - $1 * interval '1 millisecond'
      and r.fire_time < (select max(n.fire_time) from "${schema}".recurring_executions n
                         where n.schedule_key = r.schedule_key)`;
}
