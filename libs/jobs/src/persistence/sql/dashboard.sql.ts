// The dashboard's statements: read-only look-ups for its pages, off the hot path. Each is built for the
// indexes the worker already keeps (or the dashboard's own, DashboardIndexes), so a page stays fast on a
// table of millions of finished jobs. Every statement takes an optional account (`scope: 'account'`).

/** A reported state the job list filters on (`scheduled` is an `available` row due later). */
export type ListedState =
  'scheduled' | 'available' | 'running' | 'completed' | 'failed' | 'cancelled';

/** The job list's filter; unset fields match everything. */
export interface JobListFilter {
  state?: ListedState;
  queue?: string;
  name?: string;
  accountId?: string;
  /** Created at or after. */
  from?: Date;
  /** Created before. */
  to?: Date;
  /** Keyset cursor: ids below this one (the last id of the previous page). */
  before?: string;
}

/** A statement and its parameters, in order. */
export interface BoundStatement {
  text: string;
  values: unknown[];
}

/** The columns a list row shows: never the payload or the result, which may be large. */
const LIST_COLUMNS = `
  j.id::text as id, j.id as key, name, queue, state, account_id, attempts, max_attempts, run_at,
  created_at, finished_at, last_error->>'message' as error, now() as db_now`;

/**
 * The filter as a `where` clause, with only the conditions that are set: each becomes a plain equality
 * or range the planner can match to an index (a catch-all `($1 is null or col = $1)` would hide them from
 * a generic plan). `state` is written the way the partial indexes are declared (`state = 'available'`,
 * `locked_until is not null` for running jobs), so the planner can pick them.
 */
function jobFilterConditions(filter: JobListFilter, values: unknown[]): string[] {
  const where: string[] = [];
  const param = (value: unknown): string => `$${values.push(value)}`;
  switch (filter.state) {
    case undefined:
      break;
    case 'scheduled':
      where.push(`state = 'available' and run_at > now()`);
      break;
    case 'available':
      where.push(`state = 'available' and run_at <= now()`);
      break;
    case 'running':
      // Only running jobs hold a lease: jobs_locked_until_idx holds exactly them.
      where.push(`state = 'running' and locked_until is not null`);
      break;
    default:
      where.push(`state = ${param(filter.state)}`);
  }
  if (filter.queue !== undefined) where.push(`queue = ${param(filter.queue)}`);
  if (filter.name !== undefined) {
    // md5(name) is what jobs_history_name_idx holds (see DashboardIndexes).
    const name = param(filter.name);
    where.push(`md5(name) = md5(${name}) and name = ${name}`);
  }
  if (filter.accountId !== undefined) where.push(`account_id = ${param(filter.accountId)}`);
  if (filter.from !== undefined) where.push(`created_at >= ${param(filter.from)}`);
  if (filter.to !== undefined) where.push(`created_at < ${param(filter.to)}`);
  if (filter.before !== undefined) where.push(`j.id < ${param(filter.before)}::bigint`);
  return where;
}

/** `where a and b`, or nothing. */
function whereOf(conditions: string[]): string {
  return conditions.length > 0 ? `where ${conditions.join(' and ')}` : '';
}

/**
 * A filter on account, name or creation time that names no state is answered in three parts, each from
 * its own index: finished rows from the partial indexes over history (account and name: DashboardIndexes;
 * creation time: jobs_history_created_idx, ParentJob), available (and scheduled) ones from the claim
 * index, running ones from jobs_locked_until_idx. One query over every state would walk the primary key
 * instead, and read the whole table for an account with few jobs, or for a narrow window of old jobs
 * (370 ms on 1,000,000 rows for an hour 25 days back, against 2 ms in parts; see the README).
 */
function splitByState(filter: JobListFilter, values: unknown[]): Array<[string[], string]> {
  const rest = { ...filter, state: undefined };
  return [
    [
      [`state in ('completed', 'failed', 'cancelled')`, ...jobFilterConditions(rest, values)],
      'j.id',
    ],
    [[`state = 'available'`, ...jobFilterConditions(rest, values)], availableOrder(filter)],
    [jobFilterConditions({ ...filter, state: 'running' }, values), 'j.id'],
  ];
}

/**
 * The order of a query over available rows. With a creation-time filter it is `j.id + 0`, which no
 * index provides: the planner then reads the claim index (the available rows only) and sorts what is
 * in the window, instead of walking the primary key backward from the newest job, which it estimates
 * finds the window's rows soon, and which reads the whole table when none is available (510 ms on
 * 1,000,000 rows). The cost is reading every available row's entry: the backlog, not the history.
 */
function availableOrder(filter: JobListFilter): string {
  return filter.from !== undefined || filter.to !== undefined ? 'j.id + 0' : 'j.id';
}

/** `select … order by id desc limit n` of the rows matching `filter`; `columns` picks what is returned. */
function pageOf(
  schema: string,
  columns: string,
  filter: JobListFilter,
  limit: number,
): BoundStatement {
  const values: unknown[] = [];
  const from = `from "${schema}".jobs j`;
  const narrowed =
    filter.accountId !== undefined ||
    filter.name !== undefined ||
    filter.from !== undefined ||
    filter.to !== undefined;
  if (filter.state !== undefined || !narrowed) {
    const where = whereOf(jobFilterConditions(filter, values));
    const available = filter.state === 'available' || filter.state === 'scheduled';
    const order = available ? availableOrder(filter) : 'j.id';
    values.push(limit);
    return {
      text: `select ${columns} ${from} ${where} order by ${order} desc limit $${values.length}`,
      values,
    };
  }
  const parts = splitByState(filter, values);
  const limitParam = `$${values.push(limit)}`;
  const selects = parts.map(
    ([conditions, order]) =>
      `(select ${columns} ${from} ${whereOf(conditions)} order by ${order} desc limit ${limitParam})`,
  );
  return {
    text: `select * from (${selects.join(' union all ')}) u order by u.key desc limit ${limitParam}`,
    values,
  };
}

/**
 * One page of the job list, newest first, keyset-paginated on id (`before`): a page deep in the history
 * costs what the first one does, unlike an offset.
 */
export function listJobsSql(schema: string, filter: JobListFilter, limit: number): BoundStatement {
  return pageOf(schema, LIST_COLUMNS, filter, limit);
}

/** The ids a bulk action applies to (newest first, at most `limit`), from the same filter as the list. */
export function filteredIdsSql(
  schema: string,
  filter: JobListFilter,
  limit: number,
): BoundStatement {
  return pageOf(schema, 'j.id::text as id, j.id as key', filter, limit);
}

/**
 * One page of the jobs a job enqueued (`parent_id`), newest first, keyset-paginated on id like the list:
 * a walk of jobs_parent_idx (parent_id, id) that holds only jobs with a parent. Scoped to an account,
 * the other accounts' children are filtered out of that walk (a job's children are almost always its
 * own account's: they inherit it).
 */
export function childrenSql(
  schema: string,
  parentId: string,
  accountId: string | undefined,
  before: string | undefined,
  limit: number,
): BoundStatement {
  const values: unknown[] = [parentId];
  const where = [`parent_id = $1::bigint`];
  if (accountId !== undefined) where.push(`account_id = $${values.push(accountId)}`);
  if (before !== undefined) where.push(`j.id < $${values.push(before)}::bigint`);
  values.push(limit);
  return {
    text: `select ${LIST_COLUMNS} from "${schema}".jobs j where ${where.join(' and ')}
           order by parent_id desc, j.id desc limit $${values.length}`,
    values,
  };
}

/** `and account_id = $n` when scoped, else nothing. */
function accountCondition(accountId: string | undefined, values: unknown[]): string {
  return accountId === undefined ? '' : `and account_id = $${values.push(accountId)}`;
}

/** Job counts by queue and reported state (`scheduled` apart from `available`). */
export function queueCountsSql(schema: string, accountId?: string): BoundStatement {
  const values: unknown[] = [];
  const scope = accountCondition(accountId, values);
  return {
    text: `
      select queue,
             case when state = 'available' and run_at > now() then 'scheduled' else state end as state,
             count(*)::int as count
      from "${schema}".jobs where true ${scope} group by 1, 2 order by 1, 2`,
    values,
  };
}

/**
 * Completions and failures of the last hour per queue, in twelve 5-minute buckets (0 = the newest).
 * Reads jobs_finished_idx (state, finished_at) for the hour only, however long the history is.
 */
export function throughputSql(schema: string, accountId?: string): BoundStatement {
  const values: unknown[] = [];
  const scope = accountCondition(accountId, values);
  return {
    text: `
      select queue, state,
             least(11, floor(extract(epoch from now() - finished_at) / 300))::int as bucket,
             count(*)::int as count
      from "${schema}".jobs
      where state in ('completed', 'failed') and finished_at >= now() - interval '1 hour' ${scope}
      group by 1, 2, 3`,
    values,
  };
}

/** The oldest job due and waiting on each queue (from the claim index's rows only). */
export function oldestWaitingSql(schema: string, accountId?: string): BoundStatement {
  const values: unknown[] = [];
  const scope = accountCondition(accountId, values);
  return {
    text: `
      select distinct on (queue) queue, id::text as id, run_at, now() as db_now
      from "${schema}".jobs
      where state = 'available' and run_at <= now() ${scope}
      order by queue, run_at, id`,
    values,
  };
}

/**
 * The newest `$2` ticks of each schedule key in `$1`: one backward walk of the primary key
 * (schedule_key, fire_time) per schedule.
 */
export function recentTicksSql(schema: string): string {
  return `
    select k.key as schedule_key, r.fire_time, r.job_ids, r.created_at
    from unnest($1::text[]) as k(key)
    cross join lateral (
      select fire_time, job_ids::text[] as job_ids, created_at
      from "${schema}".recurring_executions
      where schedule_key = k.key order by fire_time desc limit $2
    ) r
    order by k.key, r.fire_time desc`;
}

/**
 * The registered workers and how many jobs each holds. Held jobs are counted from jobs_locked_until_idx
 * (only leased rows are in it), not by scanning the table for `locked_by`.
 */
export function workersSql(schema: string): string {
  return `
    select w.id, w.hostname, w.pid, w.queues, w.concurrency, w.started_at, w.last_heartbeat_at,
           coalesce(h.held, 0)::int as held, now() as db_now
    from "${schema}".workers w
    left join (
      select locked_by, count(*) as held from "${schema}".jobs
      where locked_until is not null group by locked_by
    ) h on h.locked_by = w.id
    order by w.started_at, w.id`;
}

/**
 * Job counts per account and state, most jobs first, at most `$1` accounts. It counts the whole table
 * (an index-only scan where the visibility map allows): the one dashboard page whose cost grows with the
 * history, which retention keeps bounded.
 */
export function accountCountsSql(schema: string): string {
  return `
    select account_id,
           count(*) filter (where state = 'available' and run_at > now())::int as scheduled,
           count(*) filter (where state = 'available' and run_at <= now())::int as available,
           count(*) filter (where state = 'running')::int as running,
           count(*) filter (where state = 'completed')::int as completed,
           count(*) filter (where state = 'failed')::int as failed,
           count(*) filter (where state = 'cancelled')::int as cancelled,
           count(*)::int as total
    from "${schema}".jobs where account_id is not null
    group by account_id order by total desc, account_id limit $1`;
}
