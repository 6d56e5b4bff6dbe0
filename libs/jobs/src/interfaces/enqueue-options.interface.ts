import type { EntityManager } from 'typeorm';
import type { JobHandler } from './job-handler.interface';

/**
 * A `@Job` class; `P` (payload) and `R` (result) are inferred from its `perform` signature. Its
 * constructor arguments (the job's own DI) do not matter here.
 */
export type JobClass<P = unknown, R = unknown> = abstract new (
  ...args: never[]
) => JobHandler<P, R>;

/** Per-enqueue options of `performLater` / `performAllLater`. */
export interface EnqueueOptions {
  /** Run no earlier than this many ms from now (database clock). Default `0`. */
  delayMs?: number;
  /** Run no earlier than this instant. Wins over `delayMs`. */
  runAt?: Date;
  /** Lower runs first. Default: the job's `priority`. */
  priority?: number;
  /** Default: the job's `queue`. */
  queue?: string;
  /** Default: the job's `maxAttempts`. */
  maxAttempts?: number;
  /**
   * The account the job runs in, for system code with no request (cron fan-out, admin tools). Default:
   * the current account from CLS. Ignored for global (`tenant: 'none'`) jobs.
   */
  accountId?: string;
  /**
   * While an unfinished job holds this key, enqueueing another with it writes nothing and returns the
   * existing job's id. Default: none.
   */
  uniqueKey?: string;
  /**
   * The name of a cron in @nestjs/schedule's `SchedulerRegistry` (your `@Cron(expr, { name })`): the call
   * enqueues only once per tick of that cron across every replica, and returns the tick's job id on the
   * others. Call it from that cron's own method. Default: none.
   */
  oncePerTick?: string;
  /**
   * Enqueue inside this transaction: the job becomes visible to workers on commit and vanishes on rollback.
   * Default: the active `@nestjs-cls/transactional` transaction, if any, else none.
   */
  manager?: EntityManager;
}

/** One job of a bulk enqueue. */
export interface BulkJob<P> extends Omit<EnqueueOptions, 'manager' | 'oncePerTick'> {
  payload: P;
}

/** Options of `performNow`. */
export interface PerformNowOptions {
  /** Run in this account instead of the current one. */
  accountId?: string;
}
