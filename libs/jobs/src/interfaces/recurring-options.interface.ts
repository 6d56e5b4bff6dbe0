import type { JobClass } from './enqueue-options.interface';

/**
 * A recurring schedule of a job. Every replica ticks; each tick enqueues exactly once across replicas,
 * guarded by a unique (key, fire time) row written in the enqueue's transaction.
 */
export interface RecurringOptions {
  /** Cron expression, 5 fields or 6 with seconds (`*\/10 * * * *`). Required. */
  cron: string;
  /** IANA time zone the expression is read in (`'Asia/Tokyo'`). Default `'UTC'`, so replicas agree. */
  timeZone?: string;
  /** Unique schedule key: the guard's identity. Default: the job name (one schedule per job). */
  key?: string;
  /** Payload of every enqueued job (validated at startup). Default `{}`. */
  payload?: unknown;
  /** Default: the job's queue. */
  queue?: string;
  /** Default: the job's priority. */
  priority?: number;
  /**
   * Enqueue one job per account from `tenant.accounts` (the app's account source), each in its account,
   * in one bulk insert. Default `false`: one job; a tenant-scoped job then needs `accountId`.
   */
  perAccount?: boolean;
  /** For a tenant-scoped job that is not `perAccount`: the account it runs in. */
  accountId?: string;
  /**
   * Ticks missed while no replica ran (found at startup from the last recorded tick): `'skip'` them,
   * enqueue only the `'latest'`, or `'all'` of them (at most 100). Default `'skip'`.
   */
  missedTicks?: 'skip' | 'latest' | 'all';
}

/** A schedule declared in module options rather than with `@Recurring`. */
export interface ScheduleDefinition extends RecurringOptions {
  /** The job, by class or by registered name. */
  job: JobClass | string;
}

/** The accounts a `perAccount` schedule fans out to (the app's active accounts). */
export interface AccountSource {
  listAccountIds(): Promise<string[]> | string[];
}
