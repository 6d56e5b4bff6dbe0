import type { JobClass, JobErrorRecord } from '../interfaces';

/**
 * What happened to a job, in the order a job meets them:
 * - `enqueued`: its row was inserted (inside your transaction when the enqueue joined one: before your
 *   commit); a `uniqueKey` that deduplicated to an unfinished job emits nothing;
 * - `started`: a worker claimed it and starts an attempt;
 * - `progress`: the running attempt called `ctx.progress(value)` (emitted when the value is written);
 * - `completed`, `retrying`, `failed`, `snoozed`, `cancelled`: how the attempt ended, once that outcome
 *   is recorded in the database (a completion once its batch committed); an outcome the database fenced
 *   out (the lease expired and the job was rescued) emits nothing;
 * - `rescued`: the worker's rescuer returned jobs whose worker stopped heartbeating (one event per sweep).
 */
export type JobEventType =
  | 'enqueued'
  | 'started'
  | 'progress'
  | 'completed'
  | 'retrying'
  | 'failed'
  | 'snoozed'
  | 'cancelled'
  | 'rescued';

/** Every event type, in lifecycle order. */
export const JOB_EVENT_TYPES: readonly JobEventType[] = [
  'enqueued',
  'started',
  'progress',
  'completed',
  'retrying',
  'failed',
  'snoozed',
  'cancelled',
  'rescued',
];

/** What every event about one job says. */
export interface JobEventBase {
  /** The job's id (a bigint, as a string). */
  readonly id: string;
  /** The job's registered name. */
  readonly name: string;
  readonly queue: string;
  /** The account the job belongs to; `null` for a global job. Also set in CLS while a listener runs. */
  readonly accountId: string | null;
  /** The attempt (1-based); `0` for `enqueued`. */
  readonly attempt: number;
  readonly maxAttempts: number;
}

/** A job was enqueued. */
export interface JobEnqueuedEvent extends JobEventBase {
  readonly type: 'enqueued';
  /** When it was asked to run: the `runAt` option, or `null` for "now + `delayMs`" (database clock). */
  readonly runAt: Date | null;
  /** The `delayMs` option, or `null`. */
  readonly delayMs: number | null;
}

/** An attempt starts. */
export interface JobStartedEvent extends JobEventBase {
  readonly type: 'started';
}

/** The running attempt reported progress. */
export interface JobProgressEvent extends JobEventBase {
  readonly type: 'progress';
  /** The value given to `ctx.progress` (a number or a small JSON object). */
  readonly progress: unknown;
}

/** What every event about a finished attempt says. */
export interface JobAttemptEndedBase extends JobEventBase {
  /** How long the attempt ran, in ms (handler start to outcome). */
  readonly durationMs: number;
}

/** The attempt completed; its result is stored. */
export interface JobCompletedEvent extends JobAttemptEndedBase {
  readonly type: 'completed';
  /** What `perform` returned, as stored (JSON), or `null`. */
  readonly result: unknown;
}

/** The attempt failed and the job will run again. */
export interface JobRetryingEvent extends JobAttemptEndedBase {
  readonly type: 'retrying';
  readonly error: JobErrorRecord;
  /** When the next attempt runs (this process's clock; the row holds the database's). */
  readonly runAt: Date;
}

/** The attempt failed and the job ended `failed` (no attempts left, or not retryable). */
export interface JobFailedEvent extends JobAttemptEndedBase {
  readonly type: 'failed';
  readonly error: JobErrorRecord;
}

/** The attempt snoozed (`ctx.snooze(ms)`): not counted, the job runs again at `runAt`. */
export interface JobSnoozedEvent extends JobAttemptEndedBase {
  readonly type: 'snoozed';
  readonly runAt: Date;
}

/** The job was cancelled while this attempt ran (its signal was aborted). */
export interface JobCancelledEvent extends JobAttemptEndedBase {
  readonly type: 'cancelled';
}

/** Jobs whose worker stopped heartbeating were returned to the queue (or failed, out of attempts). */
export interface JobsRescuedEvent {
  readonly type: 'rescued';
  /** How many jobs this sweep rescued. */
  readonly count: number;
  /** The worker whose rescuer did it (not the dead one). */
  readonly workerId: string;
}

/** Any event. */
export type JobEvent =
  | JobEnqueuedEvent
  | JobStartedEvent
  | JobProgressEvent
  | JobCompletedEvent
  | JobRetryingEvent
  | JobFailedEvent
  | JobSnoozedEvent
  | JobCancelledEvent
  | JobsRescuedEvent;

/** The event object of one type. */
export type JobEventOf<T extends JobEventType> = Extract<JobEvent, { type: T }>;

/** Options of `@OnJobEvent`. */
export interface OnJobEventOptions {
  /**
   * Only events of these jobs (their `@Job` classes). Default: every job. `rescued` events belong to no
   * job and reach only listeners without this filter.
   */
  job?: JobClass | JobClass[];
  /**
   * Longest this listener's call is waited for before a warning is logged and it is no longer waited
   * for (it is not interrupted). Default: the module's `observability.listenerTimeoutMs` (5 s).
   */
  timeoutMs?: number;
}
