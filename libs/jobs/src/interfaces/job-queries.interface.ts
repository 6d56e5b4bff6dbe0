import type { JobRecord, JobState } from './job-record.interface';

/**
 * Which accounts' jobs an operation of `JobQueueService` sees and changes. Leave it out and the current
 * account decides: inside an account's CLS context (a request, a tenant job) only that account's jobs
 * exist (another account's job is "not found"); outside any account (system code: a cron, a script, a
 * global job) every account's jobs and the global ones do. Give at most one of the two options.
 */
export interface OperationScope {
  /**
   * Only this account's jobs, wherever the call is made (an admin tool acting for one account). The same
   * rules as the enqueue option apply (a non-blank string or a safe integer). Default: the current account.
   */
  accountId?: string;
  /**
   * Every account's jobs and the global ones, even inside an account's context: admin code that must
   * cross tenants says so explicitly. Default: unset (the current account, if any).
   */
  allAccounts?: true;
}

/**
 * Filter and page of `JobQueueService.listFailed()`. Every filter is optional; given ones must all hold.
 * The accounts searched follow `OperationScope` (`accountId` narrows to one account from anywhere).
 */
export interface FailedJobsFilter extends OperationScope {
  /** Jobs of this registered name. Default: any. */
  name?: string;
  /** Jobs on this queue. Default: any. */
  queue?: string;
  /** Page size, 1–1,000. Default `50`. */
  limit?: number;
  /** The `nextCursor` of the previous page. Default: the first (newest) page. */
  after?: string;
}

/** One page of `JobQueueService.listFailed()`, newest first. */
export interface FailedJobsPage {
  jobs: JobRecord[];
  /** Pass it as `after` for the next page; `null` when there is none. */
  nextCursor: string | null;
}

/** A row of `JobQueueService.countByState()`. */
export interface QueueStateCount {
  queue: string;
  /** `scheduled` is counted apart from `available`. */
  state: JobState;
  count: number;
  /** The queue is paused (`JobFlowControl.pauseQueue`); accounts' pauses: `JobFlowControl.listPaused()`. */
  paused: boolean;
}

/** A finished state that `JobQueueService.purge()` may delete. */
export type FinishedJobState = 'completed' | 'failed' | 'cancelled';

/** Options of `JobQueueService.purge()`; the accounts purged follow `OperationScope`. */
export interface PurgeOptions extends OperationScope {
  /** Delete jobs that finished more than this many milliseconds ago. Required. */
  olderThanMs: number;
  /** The finished states to delete. Default: all three (`completed`, `failed`, `cancelled`). */
  states?: FinishedJobState[];
}
