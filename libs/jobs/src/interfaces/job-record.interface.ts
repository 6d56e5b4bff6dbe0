/**
 * Lifecycle of a job. `scheduled` is an `available` job whose `runAt` is still in the future; it is
 * reported, not stored, so no process has to promote delayed jobs.
 */
export type JobState = 'scheduled' | 'available' | 'running' | 'completed' | 'failed' | 'cancelled';

/** One recorded failure of an attempt. */
export interface JobErrorRecord {
  attempt: number;
  at: string;
  name: string;
  message: string;
  stack?: string;
  /**
   * Only on a rescue's record (`LeaseExpiredError`: the worker holding the job died): `true` when the
   * attempt was counted (the job had started), `false` when it was given back because the job had not
   * started (it waited in the dead worker's buffer); its `attempt` number is then used again.
   */
  counted?: boolean;
}

/** A job as `JobQueueService.find()` returns it. */
export interface JobRecord {
  id: string;
  name: string;
  queue: string;
  priority: number;
  state: JobState;
  payload: unknown;
  accountId: string | null;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  /** Milliseconds from the last start to finish, for finished jobs. */
  durationMs: number | null;
  lastError: JobErrorRecord | null;
  /** Every failed attempt, and every rescue (see `JobErrorRecord.counted`), oldest first. */
  errors: JobErrorRecord[];
  result: unknown;
  uniqueKey: string | null;
  lockedBy: string | null;
  lockedUntil: Date | null;
  /** The last value the job gave `ctx.progress` (kept after it finished), or `null`. */
  progress: unknown;
  /** The job whose `perform` enqueued this one (it may have been deleted since), or `null`. */
  parentId: string | null;
}
