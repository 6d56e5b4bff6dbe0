import type { JobClass } from '../interfaces';
import type { JobRow } from '../persistence/job-row';
import type { CapturedJob } from './captured-job';

/** A job of the in-memory store: the row the jobs table would hold, plus what only a test needs. */
export interface InMemoryJob {
  /** Mutable, as the table's row is. */
  readonly row: JobRow;
  /** The `@Job` class it was enqueued with. */
  readonly job: JobClass;
  /** The `runAt` option as enqueued (the row only holds its outcome, `run_at`). */
  readonly runAt: Date | null;
  /** The `delayMs` option as enqueued. */
  readonly delayMs: number | null;
  /** What `perform` threw, once failed. */
  error: Error | undefined;
  /** Aborts `ctx.signal` while the job performs (`cancel()`, `clear()`). */
  controller: AbortController | undefined;
}

/** The public, frozen-in-time view of a job (tests cannot change the store through it). */
export function snapshot<P>(entry: InMemoryJob): CapturedJob<P> {
  const row = entry.row;
  return {
    id: row.id,
    job: entry.job as JobClass<P>,
    name: row.name,
    payload: row.payload as P,
    accountId: row.account_id,
    queue: row.queue,
    priority: row.priority,
    maxAttempts: row.max_attempts,
    runAt: entry.runAt ?? undefined,
    delayMs: entry.delayMs ?? undefined,
    uniqueKey: row.unique_key ?? undefined,
    enqueuedAt: row.created_at,
    scheduledAt: row.run_at,
    state: row.state,
    attempts: row.attempts,
    result: row.result,
    error: entry.error,
  };
}
