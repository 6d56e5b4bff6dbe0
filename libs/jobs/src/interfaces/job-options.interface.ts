import type { Type } from '@nestjs/common';
import type { BackoffOptions } from './backoff.interface';
import type { ConcurrencyLimit, JobRateLimit } from './flow-limits.interface';

/** Options of the `@Job(...)` decorator. Unset values fall back to `JobsModule` `defaults`. */
export interface JobOptions {
  /** Unique, stable name stored with every job (rename with care: queued rows keep the old name). */
  name: string;
  /** Queue the job is enqueued on. Default: `defaults.queue` (`'default'`). */
  queue?: string;
  /** Lower runs first. Default: `defaults.priority` (`0`). */
  priority?: number;
  /** Attempts before the job ends `failed`. Default: `defaults.maxAttempts` (`25`). */
  maxAttempts?: number;
  /** Aborts `ctx.signal` and fails the attempt after this long. Default: `defaults.timeoutMs` (none). */
  timeoutMs?: number;
  /** Retry delays. Default: `defaults.backoff` (exponential, see README). */
  backoff?: BackoffOptions;
  /**
   * A class-validator class. The payload is transformed (class-transformer) and validated at enqueue and
   * again before perform; `perform` receives the class instance. Default: none (payload used as-is).
   */
  payload?: Type<object>;
  /**
   * Retry only errors of these classes (and their subclasses); any other error fails the job at once.
   * Default: retry every error.
   */
  retryOn?: Array<abstract new (...args: never[]) => Error>;
  /**
   * Errors of these classes fail the job at once, with no retry (`DiscardJobError` always does).
   * Default: none.
   */
  discardOn?: Array<abstract new (...args: never[]) => Error>;
  /**
   * `'required'` (default): the job runs in the account that enqueued it, and enqueueing with no account
   * throws. `'none'`: a global job, run with no account in CLS.
   */
  tenant?: 'required' | 'none';
  /**
   * At most `limit` running jobs per key across every worker, enforced in PostgreSQL (see
   * `ConcurrencyLimit`). Takes the place of `flow.accountConcurrency` for this job. Default: none.
   */
  concurrency?: ConcurrencyLimit;
  /**
   * At most `limit` starts per `periodMs` per key across every worker (see `JobRateLimit`). Takes the
   * place of its queue's `flow.queues[…].rate`. Default: none.
   */
  rate?: JobRateLimit;
}
