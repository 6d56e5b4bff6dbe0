/**
 * What a limit's `key` function gets besides the payload: the job being enqueued, with its account
 * already captured (`null` for a global job). Keys are computed once, at enqueue, and stored with the job.
 */
export interface FlowKeyContext {
  /** The job's name (`@Job({ name })`). */
  jobName: string;
  /** The queue the job is enqueued on (the `queue` enqueue option, else the job's). */
  queue: string;
  /** The captured account; `null` for a global job. */
  accountId: string | null;
}

/**
 * Computes the key a limit counts by, from the payload as passed to `performLater` and the job. It must
 * return a non-empty string of at most 255 characters that PostgreSQL stores (no U+0000, no lone
 * surrogate); anything else, or a throw, is an `InvalidEnqueueOptionsError` and nothing is written.
 * Declared with a `never` payload so that a function typed for the job's payload is accepted.
 */
export type FlowKeyFunction = (payload: never, ctx: FlowKeyContext) => string;

/**
 * `@Job({ concurrency })`: at most `limit` jobs with one key running at once, across every worker on the
 * database. A job counts while it is `running` with an unexpired lease (claimed into a worker's buffer
 * counts too); a job over its limit stays `available`, with no attempt counted.
 */
export interface ConcurrencyLimit {
  /** Most running jobs per key. Required: an integer from 1 to 2^31 − 1. */
  limit: number;
  /** The key to count by. Default: none (one key for the whole group: at most `limit` running). */
  key?: FlowKeyFunction;
  /**
   * Jobs of several `@Job`s that name the same group share their keys (and the limit of whichever job
   * is being claimed). Default: the job's own name.
   */
  group?: string;
}

/**
 * At most `limit` starts per `periodMs` per key, across every worker: fixed windows aligned to the epoch
 * (`floor(now / periodMs)`), counted when a job is claimed. A job over the limit stays `available` until a
 * window with room, with no attempt counted.
 */
export interface RateLimit {
  /** Most starts per window and key. Required: an integer from 1 to 2^31 − 1. */
  limit: number;
  /** The window's length in ms. Required: an integer from 1 to 2^31 − 1. */
  periodMs: number;
}

/** `@Job({ rate })`: a rate limit of the job, by key. */
export interface JobRateLimit extends RateLimit {
  /** The key to count by (e.g. `(p, ctx) => ctx.accountId ?? ''`). Default: none (one key per group). */
  key?: FlowKeyFunction;
  /** Jobs naming the same group share their windows. Default: the job's own name. */
  group?: string;
}

/** `flow.queues[name].rate`: a rate limit of a queue, for the whole queue or per account. */
export interface QueueRateLimit extends RateLimit {
  /** `'queue'`: one window for the queue; `'account'`: one per account (global jobs: one). Default `'queue'`. */
  per?: 'queue' | 'account';
}

/** Limits of one queue (`flow.queues`). */
export interface QueueFlowOptions {
  /**
   * Most running jobs of one account in this queue, counted apart from the module-wide
   * `accountConcurrency` (which then no longer applies to this queue's jobs). Default: the module-wide one.
   */
  accountConcurrency?: number;
  /** Rate limit of this queue's jobs that have no `@Job({ rate })`. Default: none. */
  rate?: QueueRateLimit;
}

/**
 * Limits enforced in PostgreSQL across every worker (the README, "Fairness and flow control"). Every
 * process that enqueues or works jobs must be configured alike: limits are read at enqueue and stored
 * with each job, and a worker uses the limited claim only when its own configuration has a limit.
 */
export interface FlowOptions {
  /**
   * Most running jobs of one account, over every queue that sets no `accountConcurrency` of its own;
   * global jobs are not limited by it. Applies to jobs without a `@Job({ concurrency })`. Default: none.
   */
  accountConcurrency?: number;
  /** Limits per queue name. Default `{}`. */
  queues?: Record<string, QueueFlowOptions>;
}
