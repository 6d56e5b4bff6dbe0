import type { JobRecord, JobState } from './job-record.interface';

/** Filter and page of `JobQueueService.listFailed()`. Every filter is optional; given ones must all hold. */
export interface FailedJobsFilter {
  /** Jobs of this registered name. Default: any. */
  name?: string;
  /** Jobs on this queue. Default: any. */
  queue?: string;
  /** Jobs of this account. Default: any. */
  accountId?: string;
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

/** Options of `JobQueueService.purge()`. */
export interface PurgeOptions {
  /** Delete jobs that finished more than this many milliseconds ago. Required. */
  olderThanMs: number;
  /** The finished states to delete. Default: all three (`completed`, `failed`, `cancelled`). */
  states?: FinishedJobState[];
}
