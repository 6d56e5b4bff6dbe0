/**
 * Enqueue any number of jobs in one statement: parallel arrays are unnested into rows, so a bulk enqueue
 * of 1,000 jobs costs one round-trip and one commit.
 *
 * - `run_at` is computed with the database clock (`now() + delay`), never the app's, so replicas with a
 *   skewed clock still agree on when a job is due.
 * - `on conflict … do nothing` against the partial unique index makes `uniqueKey` race-safe: of two
 *   concurrent enqueues with one key, one inserts and the other gets no row back (and looks up the winner).
 * - One `pg_notify` per statement (not per row) wakes idle workers; inside the caller's transaction
 *   PostgreSQL delivers it only on commit, so a worker is never woken for a row it cannot see yet.
 *   The left join evaluates the uncorrelated sub-select once.
 */
export function enqueueSql(schema: string, channel: string): string {
  return `
    with ins as (
      insert into "${schema}".jobs
        (name, queue, priority, payload, account_id, max_attempts, run_at, unique_key, state)
      select d.name, d.queue, d.priority, d.payload, d.account_id, d.max_attempts,
             coalesce(d.run_at, now() + coalesce(d.delay_ms, 0) * interval '1 millisecond'),
             d.unique_key, 'available'
      from unnest($1::text[], $2::text[], $3::int[], $4::jsonb[], $5::text[], $6::int[],
                  $7::timestamptz[], $8::bigint[], $9::text[])
           with ordinality as d(name, queue, priority, payload, account_id, max_attempts,
                                run_at, delay_ms, unique_key, ord)
      order by d.ord
      on conflict (unique_key) where unique_key is not null and state in ('available', 'running')
      do nothing
      returning id, unique_key, run_at
    )
    select ins.id::text as id, ins.unique_key
    from ins
    left join (
      select pg_notify('${channel}', '') as notified
      where exists (select 1 from ins where ins.run_at <= now())
    ) n on true`;
}

/** The unfinished jobs holding some unique keys (for enqueues that lost the dedupe race). */
export function findByUniqueKeysSql(schema: string): string {
  return `
    select id::text as id, unique_key from "${schema}".jobs
    where unique_key = any($1::text[]) and state in ('available', 'running')`;
}
