/**
 * Statements that end an attempt. Every one is fenced: it applies only while the row is still `running`
 * under the same worker (`locked_by`) and the same attempt (`attempts`). A worker whose lease expired and
 * whose job was rescued and re-claimed therefore changes nothing: its late outcome is dropped, and the
 * newer attempt's is the one recorded. Each returns the ids it changed (the completion, their count) so
 * the caller can tell.
 * Parameters are bound (and documented) by WorkerRepository.
 */

/**
 * Complete a batch of attempts: one statement, one commit for many jobs. It returns one row, the count
 * of jobs it changed (all the batcher needs), not a row per job: hundreds of rows per batch were parsed
 * by the driver for nothing. `$3` may be NULL when no job of the batch has a result: `unnest` pads the
 * shorter arrays with nulls, so the batch sends no array of NULLs.
 */
export function completeSql(schema: string): string {
  return `
    with done as (
      update "${schema}".jobs j
      set state = 'completed', finished_at = now(), locked_by = null, locked_until = null,
          result = d.result
      from unnest($1::bigint[], $2::int[], $3::jsonb[]) as d(id, attempts, result)
      where j.id = d.id and j.attempts = d.attempts and j.locked_by = $4 and j.state = 'running'
      returning 1
    )
    select count(*)::int as changed from done`;
}

/**
 * Fail an attempt: back to `available` after a delay (a retry), or `failed` for good when there is no
 * delay. The error is appended to the job's history.
 */
export function failSql(schema: string): string {
  return `
    update "${schema}".jobs
    set state = case when $5::bigint is null then 'failed' else 'available' end,
        run_at = case when $5::bigint is null then run_at else now() + $5 * interval '1 millisecond' end,
        finished_at = case when $5::bigint is null then now() end,
        last_error = $4::jsonb,
        errors = errors || jsonb_build_array($4::jsonb),
        locked_by = null, locked_until = null
    where id = $1 and locked_by = $2 and attempts = $3 and state = 'running'
    returning id::text as id`;
}

/**
 * Give claimed jobs back without counting the attempt (shutdown before they ran, or a graceful abort).
 * They become runnable at once. The attempt number will be used again, so its start mark goes too (as in
 * a snooze).
 */
export function releaseSql(schema: string): string {
  return `
    update "${schema}".jobs j
    set state = 'available', attempts = j.attempts - 1, locked_by = null, locked_until = null,
        started_at = null, started_attempt = null
    from unnest($1::bigint[], $2::int[]) as d(id, attempts)
    where j.id = d.id and j.attempts = d.attempts and j.locked_by = $3 and j.state = 'running'
    returning j.id::text as id`;
}

/** Snooze: end the attempt without counting it and make the job runnable again after a delay. */
export function snoozeSql(schema: string): string {
  return `
    update "${schema}".jobs
    set state = 'available', attempts = attempts - 1, run_at = now() + $4 * interval '1 millisecond',
        locked_by = null, locked_until = null, started_at = null, started_attempt = null
    where id = $1 and locked_by = $2 and attempts = $3 and state = 'running'
    returning id::text as id`;
}
