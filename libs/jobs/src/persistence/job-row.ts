import type { JobErrorRecord, JobRecord, JobState } from '../interfaces';

/**
 * A row of the `jobs` table, as `select *` returns it: the one shape a stored job has (the in-memory store
 * of `nestjs-tenant-jobs/testing` keeps the same rows).
 */
export interface JobRow {
  id: string;
  name: string;
  queue: string;
  priority: number;
  state: Exclude<JobState, 'scheduled'>;
  payload: unknown;
  account_id: string | null;
  attempts: number;
  max_attempts: number;
  run_at: Date;
  locked_by: string | null;
  locked_until: Date | null;
  last_error: JobErrorRecord | null;
  errors: JobErrorRecord[];
  result: unknown;
  unique_key: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  /** The payload class's rule fingerprint at enqueue (`PayloadRules`); `null` without one. */
  payload_rules?: string | null;
  /** Set by `ctx.progress` (the in-memory store keeps none). */
  progress?: unknown;
  /** The job that enqueued this one (bigint as text), or `null`. */
  parent_id?: string | null;
}

/**
 * A job ready to be written: options checked, payload validated and serialized, account captured. What a
 * store's `insert` takes. `null` stands for an option left unset.
 */
export interface NewJob {
  name: string;
  queue: string;
  priority: number;
  /** The payload's JSON text: what is stored, and what a worker will validate and perform. */
  payloadJson: string;
  /** The captured account; `null` for a global job (or without tenancy). */
  accountId: string | null;
  maxAttempts: number;
  runAt: Date | null;
  /** Rounded and clamped to `>= 0`. */
  delayMs: number | null;
  uniqueKey: string | null;
  /** The payload class's rule fingerprint (`PayloadRules`), when it has one. */
  payloadRules?: string | null;
  /** The enqueue's W3C `traceparent` when an OpenTelemetry SDK traced it; absent otherwise. */
  traceContext?: string | null;
  /** The id of the job whose `perform` enqueued this one; absent otherwise. */
  parentId?: string | null;
  /** The concurrency and rate limits the job is claimed under; absent: none (the usual case). */
  limits?: JobLimits;
}

/**
 * The limits stored with a job at enqueue (columns `concurrency_key` … `rate_period_ms`), computed from
 * its `@Job` options and the `flow` module option. A key is `null` when that kind of limit does not apply.
 */
export interface JobLimits {
  concurrencyKey: string | null;
  concurrencyLimit: number | null;
  rateKey: string | null;
  rateLimit: number | null;
  ratePeriodMs: number | null;
}

/** `scheduled` is reported, never stored: an `available` row whose `run_at` is still ahead of `now`. */
export function reportedState(row: Pick<JobRow, 'state' | 'run_at'>, now: Date): JobState {
  return row.state === 'available' && row.run_at.getTime() > now.getTime()
    ? 'scheduled'
    : row.state;
}

/** The public view of a row. `now` is the store's clock (the database's, for PostgreSQL). */
export function toJobRecord(row: JobRow, now: Date): JobRecord {
  return {
    id: row.id,
    name: row.name,
    queue: row.queue,
    priority: row.priority,
    state: reportedState(row, now),
    payload: row.payload,
    accountId: row.account_id,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: row.run_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs:
      row.finished_at && row.started_at
        ? row.finished_at.getTime() - row.started_at.getTime()
        : null,
    lastError: row.last_error,
    errors: row.errors,
    result: row.result ?? null,
    uniqueKey: row.unique_key,
    lockedBy: row.locked_by,
    lockedUntil: row.locked_until,
    progress: row.progress ?? null,
    parentId: row.parent_id ?? null,
  };
}
