import type { EntityManager } from 'typeorm';
import type { FinishedJobState, JobRecord, QueueStateCount } from '../interfaces';
import type { NewJob } from './job-row';

/**
 * Injection token of the `JobStore` the queue writes and reads through: the PostgreSQL repository in
 * `JobsModule`, the in-memory store in `JobsTestingModule` (tests swap the provider, not the queue).
 */
export const JOB_STORE = Symbol('JOB_STORE');

/** A row an insert wrote: its id, and its unique key (to match deduplicated items to their holders). */
export interface InsertedJob {
  id: string;
  unique_key: string | null;
}

/** Options of `JobStore.insert`. */
export interface InsertOptions {
  /** Write inside this transaction (the caller's). Default: a transaction of the store's own. */
  manager?: EntityManager;
  /**
   * Validation still to run, called by the store once its insert is on its way, so that the two overlap
   * (never combined with `manager`). The rows are kept only if it resolves; if it rejects, nothing is
   * kept and its error is what `insert` rejects with. Default: none (the rows are already valid).
   */
  validation?: () => Promise<void>;
}

/** What one guarded tick did (`JobStore.onceForTick`). */
export interface TickResult {
  /** The tick's job ids: the ones just enqueued, or those another replica enqueued for it. */
  jobIds: string[];
  /** `true` if this call enqueued them; `false` if the tick had already been enqueued. */
  enqueued: boolean;
}

/**
 * The accounts an operation may see: one account's id (its jobs only; global jobs and other accounts'
 * jobs do not exist for it), or `null` for every account and the global jobs (system code, `allAccounts`).
 * Stores apply it in the statement itself, never by filtering rows already read.
 */
export type AccountFilter = string | null;

/** Failed-jobs query of `JobStore.listFailed`: the checked filter, the page size and the account filter. */
export interface FailedJobsQuery {
  name?: string;
  queue?: string;
  after?: string;
  /** Already checked: 1–1,000. */
  limit: number;
  account: AccountFilter;
}

/**
 * Where jobs live, seen from the queue. Ids passed in are already canonical job ids; every operation
 * sees only the jobs its `AccountFilter` allows (another account's job is "not found").
 */
export interface JobStore {
  /**
   * Writes the jobs (all of one job) in one statement and returns the rows written, in order. A job whose
   * `uniqueKey` an unfinished job already holds is not written and has no row. Rejects with
   * `EnqueueFailedError` when the store refuses the write.
   */
  insert(jobs: readonly NewJob[], options?: InsertOptions): Promise<InsertedJob[]>;
  /** The unfinished jobs holding some of these unique keys. */
  findByUniqueKeys(keys: string[], manager?: EntityManager): Promise<InsertedJob[]>;
  find(id: string, account: AccountFilter): Promise<JobRecord | null>;
  /** Sorted by queue, then state. */
  countByState(account: AccountFilter): Promise<QueueStateCount[]>;
  /** `false` when the job already finished or does not exist. */
  cancel(id: string, account: AccountFilter): Promise<boolean>;
  /** `false` unless the job is `failed` or `cancelled`. */
  retry(id: string, account: AccountFilter): Promise<boolean>;
  /** Newest first, at most `query.limit`. */
  listFailed(query: FailedJobsQuery): Promise<JobRecord[]>;
  /** `false` unless the job is `failed` or `cancelled`. */
  discard(id: string, account: AccountFilter): Promise<boolean>;
  /** Deletes jobs of these states that finished more than `olderThanMs` ago; returns how many. */
  purge(
    states: readonly FinishedJobState[],
    olderThanMs: number,
    account: AccountFilter,
  ): Promise<number>;
  /**
   * Runs `enqueue` at most once per (`key`, fire time) across every process, in one transaction with the
   * tick's record (the caller's `manager`, if given). `fireTime` is read first, before anything is written.
   */
  onceForTick(
    key: string,
    fireTime: () => Date,
    enqueue: (manager: EntityManager) => Promise<string[]>,
    manager?: EntityManager,
  ): Promise<TickResult>;
}
