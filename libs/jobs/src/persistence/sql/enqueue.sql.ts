import type { NewJob } from '../job-row';

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
 * - `trace_context` is in the document only when the enqueue was traced (a missing key reads as null);
 *   `payload_rules` (the payload class's rule fingerprint, see `PayloadRules`) only for payload classes.
 */
export function enqueueSql(schema: string, channel: string): string {
  return `
    with ins as (
      insert into "${schema}".jobs
        (name, queue, priority, payload, account_id, max_attempts, run_at, unique_key, state,
         trace_context, payload_rules)
      select d.name, d.queue, d.priority, coalesce(d.payload, 'null'::jsonb), d.account_id, d.max_attempts,
             coalesce(d.run_at, now() + coalesce(d.delay_ms, 0) * interval '1 millisecond'),
             d.unique_key, 'available', d.trace_context, d.payload_rules
      from rows from (
             jsonb_to_recordset($1::jsonb) as (name text, queue text, priority int, payload jsonb,
               account_id text, max_attempts int, run_at timestamptz, delay_ms bigint, unique_key text,
               trace_context text, payload_rules text)
           ) with ordinality as d(name, queue, priority, payload, account_id, max_attempts, run_at,
                                  delay_ms, unique_key, trace_context, payload_rules, ord)
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
      (r.traceContext ? `,"trace_context":${JSON.stringify(r.traceContext)}}` : '}');
  }
  return `[${parts.join(',')}]`;
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
