import type { LoggerService } from '@nestjs/common';

/** What a job sees of the attempt it is running. */
export interface JobContext {
  /** The job's id (a bigint, as a string). */
  readonly id: string;
  /** The job's registered name. */
  readonly name: string;
  /** The queue it was enqueued on. */
  readonly queue: string;
  /** 1 for the first attempt, 2 for the first retry, … */
  readonly attempt: number;
  /** Attempts allowed before the job ends `failed`. */
  readonly maxAttempts: number;
  /** The account the job was enqueued for, or `null` for a global job. Also set in CLS. */
  readonly accountId: string | null;
  /**
   * Aborted when the attempt times out, the job is cancelled, or the worker shuts down. Pass it to
   * `fetch`, database drivers and your own loops so the job stops promptly.
   */
  readonly signal: AbortSignal;
  /** A logger whose context is the job name. */
  readonly logger: LoggerService;
  /**
   * Ends this attempt and runs the job again after `delayMs`, without counting a failure or an attempt
   * (e.g. a rate limit said "come back later"). Use as `return ctx.snooze(60_000)`.
   */
  snooze(delayMs: number): never;
  /**
   * Reports how far the job is: a number (e.g. percent done) or a small JSON object (at most 2 KiB, e.g.
   * `{ done: 3_000, total: 10_000 }`). Stored on the job at most once per
   * `observability.progressIntervalMs` (the last value wins, and is stored before the outcome), returned
   * by `find()` as `progress`, and emitted as a `progress` event. Throws `InvalidArgumentError` for any
   * other value.
   */
  progress(value: number | Record<string, unknown>): void;
}

/**
 * Implemented by every `@Job` class. `P` is the payload type (the `payload` class of `@Job`), `R` the
 * result, which is stored as JSON on the job when it completes.
 */
export interface JobHandler<P = unknown, R = unknown> {
  perform(payload: P, ctx: JobContext): Promise<R> | R;
}
