import { notPaused } from './claim.sql';

/** Most (concurrency key, rate key) pairs one limited claim visits: bounds its cost whatever the key count. */
export const MAX_PAIRS_PER_CLAIM = 100;

/**
 * Advisory-lock namespaces (the first `int4` of `pg_try_advisory_xact_lock(int4, int4)`) of concurrency
 * keys and rate keys: "jobs" in ASCII, then one more, so the library's locks never meet an app's
 * single-`bigint` locks; the second `int4` is `hashtext(schema ␟ key)`.
 */
export const CONCURRENCY_LOCK_SPACE = 0x6a6f6273;
export const RATE_LOCK_SPACE = 0x6a6f6274;

/** A pair's concurrency key and rate key as the index holds them (`''` for none). */
const CK = `(coalesce(j.concurrency_key, '') collate "C")`;
const RK = `(coalesce(j.rate_key, '') collate "C")`;
/** The predicate of `jobs_limited_claim_idx`: available jobs with a limit. */
const LIMITED = `j.state = 'available' and (j.concurrency_key is not null or j.rate_key is not null)`;

/*
 * The limited claim: how jobs with a concurrency or rate limit (`JobLimits`) are claimed while limits are
 * configured, as three statements in one transaction on the worker's pool (`WorkerRepository`):
 *
 * 1. `limitedPairsSql` finds the (concurrency key, rate key) pairs with available jobs and takes a
 *    transaction-level advisory lock on each of their keys with `pg_try_advisory_xact_lock`: a key another
 *    claimer holds right now is skipped for this claim, never waited for (no claimer queues behind another,
 *    no deadlock, whatever the order of keys).
 * 2. `limitUsageSql`, a new statement and so a new snapshot, reads how many jobs of each locked
 *    concurrency key are running (`state = 'running' and locked_until > now`: a running job whose lease
 *    expired no longer counts, so a dead worker's slots come back at its lease's end, before any rescue)
 *    and how many starts each locked rate key has in its current window.
 * 3. `limitedClaimSql` claims, per pair, what node allotted it (the smallest room of its keys, shared
 *    between the pairs of one key), `for update skip locked`, leases the rows like the plain claim, and
 *    adds the starts to each rate key's window, in one statement.
 *
 * Why a lock and a second statement: in READ COMMITTED a statement sees the rows committed when it
 * started. Counting running jobs in the statement that takes the lock would miss a claim that another
 * worker committed while this statement ran; two claimers could each see room for one and both take it.
 * Statement 2 starts after the lock is held, and whoever held it before has committed (PostgreSQL makes a
 * transaction visible before it releases its locks), so it sees every claim of that key. Completions,
 * failures and rescues take no lock: they only lower the count, and a count that is too high for a moment
 * only makes a claim take less. Rate windows are only written under their key's lock, with the time read
 * under it (`clock_timestamp()`, monotonic across lock holders), so a window never goes back and its
 * count is exact: fixed windows aligned to the epoch (`floor(epoch ms / period) * period`).
 */

/**
 * Statement 1. `$1` most pairs, `$2`/`$3` the cursor (the pair the worker's previous limited claim ended
 * with, `''`/`''` before the first). A skip scan over `jobs_limited_claim_idx`, one index descent per
 * pair however many jobs it holds (a full key's backlog costs nothing), in pair order from after the
 * cursor and wrapping round to it, like the fair claim's lanes (`fair-claim.sql.ts`): with more pairs than
 * one claim visits, each claim serves the next ones (round-robin). Returns, in visit order, each pair, the
 * limits of its first job (a key's limit is read from its jobs, as stored at enqueue) and whether all its
 * keys are locked now (`claimable`).
 */
export function limitedPairsSql(schema: string): string {
  const s = `"${schema}"`;
  const step = (bound: string) => `
      select ${CK} as ck, ${RK} as rk, j.concurrency_limit as cl, j.rate_limit as rl,
             j.rate_period_ms as rp
      from ${s}.jobs j
      where ${LIMITED} and (${CK}, ${RK}) > (l.ck, l.rk)${bound}
      order by ${CK}, ${RK}, j.priority, j.run_at, j.id
      limit 1`;
  const lock = (space: number, key: string) =>
    `pg_try_advisory_xact_lock(${space}, hashtext('${schema}' || chr(31) || ${key}))`;
  return `
    with recursive
      after_cursor(ck, rk, cl, rl, rp, n) as (
        select $2::text collate "C", $3::text collate "C", null::int, null::int, null::int, 0
        union all
        select x.ck, x.rk, x.cl, x.rl, x.rp, l.n + 1
        from after_cursor l cross join lateral (${step('')}
        ) x
        where l.n < $1
      ),
      before_cursor(ck, rk, cl, rl, rp, n) as (
        select ''::text collate "C", ''::text collate "C", null::int, null::int, null::int,
               (select max(n) from after_cursor)
        union all
        select x.ck, x.rk, x.cl, x.rl, x.rp, l.n + 1
        from before_cursor l cross join lateral (${step(`
        and (${CK}, ${RK}) <= ($2::text collate "C", $3::text collate "C")`)}
        ) x
        where l.n < $1
      ),
      visited as materialized (
        select ck, rk, cl, rl, rp, n from after_cursor where n > 0
        union all
        select ck, rk, cl, rl, rp, n from before_cursor
        where n > (select max(n) from after_cursor)
      ),
      keys as materialized (
        select distinct ck as key, 1 as space from visited where ck <> ''
        union
        select distinct rk, 2 from visited where rk <> ''
      ),
      locked as materialized (
        select key, space from keys
        where case space when 1 then ${lock(CONCURRENCY_LOCK_SPACE, 'key')}
                         else ${lock(RATE_LOCK_SPACE, 'key')} end
      )
    select v.ck::text as ck, v.rk::text as rk, v.cl, v.rl, v.rp,
           (v.ck = '' or exists (select 1 from locked k where k.space = 1 and k.key = v.ck))
           and (v.rk = '' or exists (select 1 from locked k where k.space = 2 and k.key = v.rk))
             as claimable
    from visited v
    order by v.n`;
}

/**
 * Statement 2. `$1` the locked concurrency keys, `$2` the locked rate keys and `$3` their periods in ms
 * (same order). One row per key: `space` 1 (concurrency: `used` running jobs) or 2 (rate: `used` starts
 * in the current window, `2^31 − 1` if the stored window is newer, which a monotonic clock rules out),
 * each carrying `at`, the time read under the locks (text, microseconds kept) that statement 3 uses.
 * The running count reads `jobs_limited_running_idx`, the running jobs with a concurrency key.
 */
export function limitUsageSql(schema: string): string {
  const s = `"${schema}"`;
  return `
    with t as materialized (
      select c.at, floor(extract(epoch from c.at) * 1000)::bigint as ms
      from (select clock_timestamp() as at) c
    )
    select 1 as space, k.key,
           (select count(*) from ${s}.jobs j
            where j.state = 'running' and j.concurrency_key is not null
              and j.concurrency_key = k.key and j.locked_until > t.at)::int as used,
           t.at::text as at
    from unnest($1::text[]) as k(key) cross join t
    union all
    select 2, r.key,
           case when w.window_start is null or w.window_start < (t.ms / r.p) * r.p then 0
                when w.window_start = (t.ms / r.p) * r.p then w.starts
                else 2147483647 end,
           t.at::text
    from unnest($2::text[], $3::int[]) as r(key, p) cross join t
    left join ${s}.flow_windows w on w.key = r.key`;
}

/**
 * Statement 3. `$1`/`$2` the pairs (concurrency key, rate key, `''` for none), `$3` how many jobs each
 * may take, `$4` the rate period of its rate key (0 for none), `$5` worker id, `$6` lease in ms, `$7` the
 * time read by statement 2, `$8`/`$9` paused queues and accounts (empty when nothing is paused: this
 * statement reads rows by pair through the index, so the filter never changes its plan), `$10` queues
 * (only when `filterQueues`).
 *
 * Per pair, its oldest due jobs (priority, run time, id) through `jobs_limited_claim_idx`, `for update
 * skip locked`; the update is the plain claim's (`claim.sql.ts`) with `$7` as the claim's time, and the
 * starts of each rate key go to its window: a new window restarts the count. Rows come back in claim
 * order with the plain claim's columns.
 */
export function limitedClaimSql(schema: string, filterQueues: boolean): string {
  const s = `"${schema}"`;
  const inQueues = filterQueues ? ' and j.queue = any($10::text[])' : '';
  return `
    with picked as materialized (
      select p.id, u.rk, u.rp
      from unnest($1::text[], $2::text[], $3::int[], $4::int[]) as u(ck, rk, n, rp)
      cross join lateral (
        select j.id from ${s}.jobs j
        where ${LIMITED} and ${CK} = (u.ck collate "C") and ${RK} = (u.rk collate "C")
          and j.run_at <= $7::timestamptz${inQueues}
          and ${notPaused(8, 'j.')}
        order by j.priority, j.run_at, j.id
        limit u.n
        for update skip locked
      ) p
    ),
    claimed as (
      update ${s}.jobs j
      set state = 'running',
          attempts = j.attempts + 1,
          locked_by = $5,
          locked_until = $7::timestamptz + $6 * interval '1 millisecond',
          started_at = $7::timestamptz
      where j.id = any(array(select id from picked))
      returning j.id, j.name, j.queue, j.payload, j.account_id, j.attempts, j.max_attempts,
                j.priority, j.run_at, j.trace_context, j.unstarted_rescues, j.payload_rules
    ),
    windows as (
      insert into ${s}.flow_windows as w (key, window_start, window_ms, starts)
      select p.rk, (t.ms / max(p.rp)) * max(p.rp), max(p.rp), count(*)
      from picked p
      cross join (select floor(extract(epoch from $7::timestamptz) * 1000)::bigint as ms) t
      where p.rk <> ''
      group by p.rk, t.ms
      on conflict (key) do update
      set starts = case when w.window_start = excluded.window_start
                        then w.starts + excluded.starts else excluded.starts end,
          window_start = excluded.window_start,
          window_ms = excluded.window_ms
    )
    select id::text as id, name, queue, payload, account_id as "accountId", attempts as attempt,
           max_attempts as "maxAttempts", trace_context as "traceContext",
           unstarted_rescues as "unstartedRescues", payload_rules as "payloadRules",
           extract(epoch from $7::timestamptz - run_at)::float8 * 1000 as "waitMs"
    from claimed
    order by priority, run_at, id`;
}

/** `$1` batch size: deletes rate windows that ended a minute ago or more (maintenance). */
export function pruneWindowsSql(schema: string): string {
  return `
    delete from "${schema}".flow_windows
    where key = any(array(
      select key from "${schema}".flow_windows
      where window_start + window_ms < floor(extract(epoch from now()) * 1000)::bigint - 60000
      limit $1
    ))
    returning key`;
}
