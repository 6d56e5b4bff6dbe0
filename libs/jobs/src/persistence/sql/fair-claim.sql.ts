import { notPaused, UNLIMITED } from './claim.sql';

/** Most lanes one fair claim visits (see `fairClaimSql`): bounds its cost whatever the account count. */
export const MAX_LANES_PER_CLAIM = 100;

/** A job's lane key: its account, global jobs (`account_id` null) as the account `''`; byte order. */
const LANE = `(coalesce(j.account_id, '') collate "C")`;

/**
 * `jobs_fair_claim_idx`'s predicate, written as the index writes it (migration
 * `FairClaimIndexPredicate`): the planner proves a partial index's predicate only from a clause of the
 * same collation, so the lane scans that use it can be served by that index alone, never by
 * `jobs_claim_idx` plus a sort of the whole priority, whatever the statistics say.
 */
const FAIR_AVAILABLE = `(j.state collate "C") = 'available'`;

/**
 * The fair claim (`worker.fairness: 'account'`). Parameters: `$1` limit, `$2` worker id, `$3` lease in
 * ms, `$4` queues (only when `filterQueues`), then two more: the round-robin cursor (`$5`/`$6`, or
 * `$4`/`$5` without a queue filter: the queue and account of the lane the worker's previous claim ended
 * with; `''`/`''` before the first), then the paused queues and accounts (`$7`/`$8`, or `$6`/`$7`).
 *
 * A lane is one (queue, account) pair; global jobs are the lane of account `''` (account ids are never
 * blank). The statement:
 * 1. `top`: the best (lowest) priority among runnable jobs, from `jobs_claim_idx` as the plain claim
 *    reads it. Only lanes of that priority are shared fairly, so priority wins over fairness.
 * 2. `after_cursor`, then `before_cursor`: a skip scan over `jobs_fair_claim_idx` (priority, queue,
 *    lane, run_at, id) that finds the lanes with available jobs at that priority, one index descent
 *    each, in lane order starting after the cursor and wrapping round to it, at most
 *    `MAX_LANES_PER_CLAIM` of them (and at most `$1`). Two recursive CTEs rather than one with a
 *    "wrapped" flag: each keeps its bounds as index conditions; a filter would walk the index to its end
 *    once the lanes run out. With a queue filter, a lane of a queue this worker does not serve is
 *    visited once and the next step jumps past its whole queue (`queue > …`), so other queues' accounts
 *    cost one descent per queue, not one per account.
 * 3. `fair`: per lane, its oldest due jobs, `for update skip locked`, at most an even share of `$1`
 *    (`$1 / lanes`, the first `$1 % lanes` lanes one more), so the shares add up to the limit.
 * 4. `fill`: what the lanes could not supply (a small account with fewer jobs than its share, jobs
 *    locked by another worker, a lane whose jobs are not due yet) is claimed in plain claim order, so a
 *    fair claim is as full as a plain one whenever jobs are available: fairness never idles a slot.
 * 5. The update and the returned rows are the plain claim's (`claim.sql.ts`): ids handed over as an
 *    array, rows returned in (priority, run_at, id) order. The first row also carries `fairCursor`, the
 *    last lane visited, which the worker passes as the cursor next time: with more lanes than one claim
 *    visits, the next claim starts where this one stopped (round-robin); one value per claim, not per row.
 *
 * With `unlimitedOnly` (limits configured), jobs with a concurrency or rate limit are left to the
 * limited claim (`limited-claim.sql.ts`): `top`, each lane's jobs and the fill skip them.
 *
 * With `filterPaused`, paused queues and accounts (`JobFlowControl`; the last two parameters, see
 * `notPaused`; without it the statement takes neither, as before pauses existed) are dropped
 * per lane: a paused lane is visited like any other (so the cursor still moves past it) but gets no share
 * (`lanes` keeps the open ones of `visited`); the fill filters them like the plain claim.
 *
 * Steps 2 and 3 read `jobs_fair_claim_idx` through its own predicate (`FAIR_AVAILABLE`), which nothing
 * else can serve: when the statistics do not know of the backlog, the planner otherwise read the lanes
 * through `jobs_claim_idx` and sorted the whole priority once per lane (0.5 s a claim on 20,000 jobs).
 *
 * Cost, measured on a 100,000-job backlog: about the plain claim's plus one index descent and one
 * lateral scan per lane visited (about 10-20 µs each); see the README, "Fairness and flow control".
 */
export function fairClaimSql(
  schema: string,
  filterQueues: boolean,
  filterPaused = false,
  unlimitedOnly = false,
): string {
  const s = `"${schema}"`;
  // While limits are configured: jobs without one only (see `claimSql`); limited ones are claimed apart.
  const only = unlimitedOnly ? ` and ${UNLIMITED}` : '';
  const onlyJ = unlimitedOnly ? ` and j.${UNLIMITED.replace(' and ', ' and j.')}` : '';
  const served = filterQueues ? 'j.queue = any($4::text[])' : 'true';
  const inQueues = filterQueues ? ' and queue = any($4::text[])' : '';
  const [cq, ca] = filterQueues ? ['$5', '$6'] : ['$4', '$5'];
  // Paused queues and accounts: the two parameters after the cursor.
  const [pq, pa] = filterQueues ? ['$7', '$8'] : ['$6', '$7'];
  const open = filterPaused ? `queue <> all(${pq}::text[]) and acct <> all(${pa}::text[])` : 'true';
  const fillOpen = filterPaused ? ` and ${notPaused(filterQueues ? 7 : 6)}` : '';
  const maxLanes = `least($1, ${MAX_LANES_PER_CLAIM})`;
  // The next lane after `l` at the top priority; with a queue filter, past an unserved lane's queue.
  const step = (bound: string) => {
    const next = `
        (select j.queue, ${LANE} as acct, ${served} as served from ${s}.jobs j
         where ${FAIR_AVAILABLE} and j.priority = t.priority and l.served
           and (j.queue, ${LANE}) > (l.queue, l.acct)${bound}
         order by j.queue, ${LANE} limit 1)`;
    if (!filterQueues) return next;
    return `${next}
        union all
        (select j.queue, ${LANE}, ${served} from ${s}.jobs j
         where ${FAIR_AVAILABLE} and j.priority = t.priority and not l.served
           and j.queue > l.queue${bound}
         order by j.queue, ${LANE} limit 1)
        limit 1`;
  };
  const cursor = `(${cq}::text, ${ca}::text collate "C")`;
  return `
    with recursive
      top as materialized (
        select priority from ${s}.jobs
        where state = 'available' and run_at <= now()${inQueues}${only}
        order by priority, run_at, id limit 1
      ),
      after_cursor(queue, acct, served, n) as (
        select ${cq}::text, ${ca}::text collate "C", true, 0 from top
        union all
        select x.queue, x.acct, x.served, l.n + x.served::int
        from after_cursor l cross join top t cross join lateral (${step('')}
        ) x
        where l.n < ${maxLanes}
      ),
      before_cursor(queue, acct, served, n) as (
        select ''::text, ''::text collate "C", true, (select max(n) from after_cursor) from top
        union all
        select x.queue, x.acct, x.served, l.n + x.served::int
        from before_cursor l cross join top t cross join lateral (${step(`
           and (j.queue, ${LANE}) <= ${cursor}`)}
        ) x
        where l.n < ${maxLanes}
      ),
      visited as materialized (
        select queue, acct, n from after_cursor where served and n > 0
        union all
        select b.queue, b.acct, b.n from before_cursor b
        where b.served and b.n > (select max(n) from after_cursor)
      ),
      lanes as materialized (
        select queue, acct, row_number() over (order by n) as n from visited where ${open}
      ),
      share as materialized (
        select $1 / greatest(count(*), 1) as base, $1 % greatest(count(*), 1) as extra from lanes
      ),
      fair as materialized (
        select p.id
        from lanes l cross join share sh cross join top t cross join lateral (
          select j.id from ${s}.jobs j
          where ${FAIR_AVAILABLE} and j.priority = t.priority and j.queue = l.queue
            and ${LANE} = l.acct and j.run_at <= now()${onlyJ}
          order by j.run_at, j.id
          limit sh.base + (l.n <= sh.extra)::int
          for update skip locked
        ) p
      ),
      fill as (
        select id from ${s}.jobs
        where state = 'available' and run_at <= now()${inQueues}
          and id <> all(array(select id from fair))${fillOpen}${only}
        order by priority, run_at, id
        limit $1 - (select count(*) from fair)
        for update skip locked
      ),
      claimed as (
        update ${s}.jobs j
        set state = 'running',
            attempts = j.attempts + 1,
            locked_by = $2,
            locked_until = now() + $3 * interval '1 millisecond',
            started_at = now()
        where j.id = any(array(select id from fair union all select id from fill))
        returning j.id, j.name, j.queue, j.payload, j.account_id, j.attempts, j.max_attempts,
                  j.priority, j.run_at, j.trace_context, j.unstarted_rescues, j.payload_rules
      )
    select id::text as id, name, queue, payload, account_id as "accountId", attempts as attempt,
           max_attempts as "maxAttempts", trace_context as "traceContext",
           unstarted_rescues as "unstartedRescues", payload_rules as "payloadRules",
           extract(epoch from now() - run_at)::float8 * 1000 as "waitMs",
           case when row_number() over (order by priority, run_at, id) = 1
             then (select array[queue, acct::text] from visited order by n desc limit 1)
           end as "fairCursor"
    from claimed
    order by priority, run_at, id`;
}
