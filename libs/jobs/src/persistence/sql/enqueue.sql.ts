import type { JobLimits, NewJob } from '../job-row';

/**
 * Enqueue any number of jobs in one statement: the rows arrive as one JSON array (`$1`, see
 * `enqueueDocument`) and are expanded by `jsonb_to_recordset`, so a bulk enqueue of 1,000 jobs costs one
 * round-trip and one commit, and the driver sends one text parameter instead of escaping parallel arrays.
 *
 * - `run_at` is computed with the database clock (`now() + delay`), never the app's, so replicas with a
 *   skewed clock still agree on when a job is due.
 * - `on conflict … do nothing` against the partial unique index makes `uniqueKey` race-safe: of two
 *   concurrent enqueues with one key, one inserts and the other gets no row back (and looks up the winner).
 * - One `pg_notify` per statement (not per row) wakes idle workers; inside the caller's transaction
 *   PostgreSQL delivers it only on commit, so a worker is never woken for a row it cannot see yet.
 *   The left join evaluates the uncorrelated sub-select once.
 * - `jsonb_to_recordset` reads a JSON `null` field as SQL NULL, so a `null` payload (which strict
 *   serialization allows: the handler gets `null`) is put back as JSON null for the NOT NULL column.
 * - `trace_context` is in the document only when the enqueue was traced, `parent_id` only when a job's
 *   `perform` enqueued it, and the limit columns only for jobs with a limit (`JobLimits`; see
 *   `limited-claim.sql.ts`); a missing key reads as null. `payload_rules` (the payload class's rule
 *   fingerprint, see `PayloadRules`) is there only for payload classes.
 */
export function enqueueSql(schema: string, channel: string): string {
  return `
    with ins as (${insertJobs(schema)})
    select ins.id::text as id, ins.unique_key
    from ins
    left join (
      select pg_notify('${channel}', '') as notified
      where exists (select 1 from ins where ins.run_at <= now())
    ) n on true`;
}

/**
 * `enqueueSql` without its `pg_notify`, for the inserts the batcher sends while others are in flight
 * (`EnqueueBatcher`): each row says whether it is `due` now, and the caller wakes workers apart, after
 * the commit (`wakeWorkersSql`).
 *
 * Why: a transaction that notifies takes one lock on the database (PostgreSQL's notify queue, held
 * from just before its commit until the commit, durable WAL flush included, is done), so notifying
 * inserts commit one after another, however many connections send them. Measured with 50 concurrent
 * callers on the shared 2-core machine: 35–45% more jobs/s without it.
 */
export function quietEnqueueSql(schema: string): string {
  return `
    with ins as (${insertJobs(schema)})
    select ins.id::text as id, ins.unique_key, ins.run_at <= now() as due
    from ins`;
}

/**
 * Wakes idle workers after quiet inserts committed. Its commit is asynchronous (`set_config(…, true)`
 * applies to this transaction only): a wake-up is a hint that needs no WAL flush, so the notify lock is
 * held for microseconds, not for a flush. Workers poll as well, so a lost wake-up delays, never loses.
 */
export function wakeWorkersSql(channel: string): string {
  return `select set_config('synchronous_commit', 'off', true), pg_notify('${channel}', '')`;
}

/** The insert both enqueue statements share (see `enqueueSql`). */
function insertJobs(schema: string): string {
  return `
      insert into "${schema}".jobs
        (name, queue, priority, payload, account_id, max_attempts, run_at, unique_key, state,
         trace_context, parent_id, concurrency_key, concurrency_limit, rate_key, rate_limit,
         rate_period_ms, payload_rules)
      select d.name, d.queue, d.priority, coalesce(d.payload, 'null'::jsonb), d.account_id, d.max_attempts,
             coalesce(d.run_at, now() + coalesce(d.delay_ms, 0) * interval '1 millisecond'),
             d.unique_key, 'available', d.trace_context, d.parent_id, d.concurrency_key,
             d.concurrency_limit, d.rate_key, d.rate_limit, d.rate_period_ms, d.payload_rules
      from rows from (
             jsonb_to_recordset($1::jsonb) as (name text, queue text, priority int, payload jsonb,
               account_id text, max_attempts int, run_at timestamptz, delay_ms bigint, unique_key text,
               trace_context text, parent_id bigint, concurrency_key text, concurrency_limit int,
               rate_key text, rate_limit int, rate_period_ms int, payload_rules text)
           ) with ordinality as d(name, queue, priority, payload, account_id, max_attempts, run_at,
                                  delay_ms, unique_key, trace_context, parent_id, concurrency_key,
                                  concurrency_limit, rate_key, rate_limit, rate_period_ms,
                                  payload_rules, ord)
      order by d.ord
      on conflict (unique_key) where unique_key is not null and state in ('available', 'running')
      do nothing
      returning id, unique_key, run_at
    `;
}

/**
 * The `$1` document of `enqueueSql`. Payloads were serialised once already (to check their size), so
 * their JSON is spliced in rather than parsed and serialised again. Built field by field for speed: a
 * bulk enqueue's rows usually share their name and queue, whose JSON is made once; numbers and nulls need
 * no JSON.stringify.
 */
export function enqueueDocument(rows: readonly NewJob[]): string {
  const parts = new Array<string>(rows.length);
  let name: string | undefined;
  let nameJson = '';
  let queue: string | undefined;
  let queueJson = '';
  for (let i = 0; i < rows.length; i++) {
    const r = rows[i];
    if (r.name !== name) nameJson = JSON.stringify((name = r.name));
    if (r.queue !== queue) queueJson = JSON.stringify((queue = r.queue));
    parts[i] =
      `{"name":${nameJson},"queue":${queueJson},"priority":${r.priority},"payload":${r.payloadJson},` +
      `"account_id":${jsonOrNull(r.accountId)},"max_attempts":${r.maxAttempts},` +
      `"run_at":${r.runAt === null ? 'null' : JSON.stringify(r.runAt)},` +
      `"delay_ms":${r.delayMs === null ? 'null' : r.delayMs},"unique_key":${jsonOrNull(r.uniqueKey)}` +
      (r.payloadRules ? `,"payload_rules":${JSON.stringify(r.payloadRules)}` : '') +
      (r.traceContext ? `,"trace_context":${JSON.stringify(r.traceContext)}` : '') +
      (r.parentId ? `,"parent_id":"${r.parentId}"` : '') +
      (r.limits ? limitsJson(r.limits) : '') +
      '}';
  }
  return `[${parts.join(',')}]`;
}

/** The limit fields of one row of the document (see `JobLimits`), after a comma. */
function limitsJson(l: JobLimits): string {
  return (
    `,"concurrency_key":${jsonOrNull(l.concurrencyKey)},"concurrency_limit":${l.concurrencyLimit}` +
    `,"rate_key":${jsonOrNull(l.rateKey)},"rate_limit":${l.rateLimit},"rate_period_ms":${l.ratePeriodMs}`
  );
}

function jsonOrNull(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

/** The unfinished jobs holding some unique keys (for enqueues that lost the dedupe race). */
export function findByUniqueKeysSql(schema: string): string {
  return `
    select id::text as id, unique_key from "${schema}".jobs
    where unique_key = any($1::text[]) and state in ('available', 'running')`;
}
