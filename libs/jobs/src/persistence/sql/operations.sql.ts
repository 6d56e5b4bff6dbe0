/**
 * Operations statements (listing, purging). Off the hot path; shaped to use the indexes anyway.
 */

/**
 * Failed jobs, newest first, keyset-paginated on id (`$1` = the last id of the previous page, or null),
 * filtered by name, queue and account when those are given.
 */
export function listFailedSql(schema: string): string {
  return `
    select j.*, j.id::text as id, now() as db_now from "${schema}".jobs j
    where state = 'failed'
      and ($1::bigint is null or j.id < $1)
      and ($2::text is null or name = $2)
      and ($3::text is null or queue = $3)
      and ($4::text is null or account_id = $4)
    order by j.id desc
    limit $5`;
}

/**
 * Delete up to `$3` finished jobs of the given states that finished before now() - `$2` ms. Batched so a
 * large purge never holds many row locks or bloats one transaction; the caller loops until it deletes
 * fewer than the batch. `skip locked` leaves rows another purger is deleting to it.
 */
export function purgeSql(schema: string): string {
  return `
    with doomed as (
      select id from "${schema}".jobs
      where state = any($1::text[]) and finished_at < now() - $2 * interval '1 millisecond'
      limit $3
      for update skip locked
    )
    delete from "${schema}".jobs j using doomed where j.id = doomed.id`;
}

const PURGE_BATCH = 5_000;

/** Runs `purgeSql` batch after batch until nothing is left to delete; returns how many rows went. */
export async function purgeFinished(
  query: (text: string, values: unknown[]) => Promise<unknown[]>,
  schema: string,
  states: readonly string[],
  olderThanMs: number,
): Promise<number> {
  let total = 0;
  for (;;) {
    const rows = await query(`${purgeSql(schema)} returning j.id`, [
      states,
      olderThanMs,
      PURGE_BATCH,
    ]);
    total += rows.length;
    if (rows.length < PURGE_BATCH) return total;
  }
}
