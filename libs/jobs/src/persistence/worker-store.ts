import type { PoolClient } from 'pg';
import type { JobAttempt } from './job-attempt';
import type { PausedLists } from './pause-store';
import type { PurgeBatch } from './sql/operations.sql';

export type { PurgeBatch };

/** One batch of the retention sweep (`WorkerStore.purgeFinished`). */
export interface PurgeRequest {
  /** The finished state whose rows go. */
  state: 'completed' | 'failed' | 'cancelled';
  /** Only rows finished longer ago than this. */
  olderThanMs: number;
  /** Most rows to delete. */
  limit: number;
  /** Only rows finished at or after this `finished_at` (the previous batch's `last`); null: no bound. */
  after: string | null;
}

/** What `WorkerStore.claim` is asked for. */
export interface ClaimRequest {
  /** Most rows to claim. */
  limit: number;
  /** The claiming worker's id, written to `locked_by`. */
  workerId: string;
  /** How long the claimed rows are leased. */
  leaseMs: number;
  /** Queues served; `undefined` (or a list holding `'*'`) serves every queue. */
  queues?: readonly string[];
  /**
   * Claim fairly across accounts (`worker.fairness: 'account'`), starting after this cursor, which the
   * claim moves to the last lane it visited; `undefined`: plain claim order.
   */
  fair?: LaneCursor;
  /** Queues and accounts not to claim from (`JobFlowControl`); `undefined`: nothing paused. */
  paused?: PausedLists;
  /**
   * Limits are configured: claim jobs with a limit through the limited claim (from this cursor, which
   * the claim moves) and the others through a claim of unlimited jobs only; `undefined`: no limit
   * anywhere, the claims run as they always did.
   */
  limited?: LimitCursor;
  /**
   * Run the claim on this connection rather than the worker's pool: the LISTEN connection that has just
   * delivered a NOTIFY, whose server process is awake. A pooled connection idle for a while answers
   * about 0.1 ms later on a small VM (its process has to be woken), which is most of what an idle
   * worker can still save between an enqueue's commit and the handler's start. `undefined`: the pool.
   */
  connection?: ClaimConnection;
}

/**
 * Where a worker's next limited claim starts: the (concurrency key, rate key) pair its previous one
 * ended with (`''` for none), which kind of job the next claim serves first (it alternates, so neither
 * limited nor unlimited jobs can take every claim), and when to leave the limited claim out. Held by the worker, moved by
 * the claim.
 */
export interface LimitCursor {
  concurrencyKey: string;
  rateKey: string;
  limitedFirst: boolean;
  /** `Date.now()` before which claims skip the limited claim (it just found nothing it could take). */
  idleUntil: number;
}

/** A connection a claim can run on (a `pg` client of the worker's pool, see `ClaimRequest.connection`). */
export type ClaimConnection = Pick<PoolClient, 'query'>;

/**
 * Where a worker's next fair claim starts: the (queue, account) lane its previous claim ended with
 * (global jobs: account `''`). Held by the worker, moved by `WorkerStore.claim`.
 */
export interface LaneCursor {
  queue: string;
  account: string;
}

/** One finished attempt whose completion is recorded in a batch. */
export interface Completion {
  id: string;
  /** The job's name (for messages only). */
  name: string;
  attempt: number;
  /** What `perform` returned, as storable JSON text; `null` when it returned nothing storable. */
  result: string | null;
}

/**
 * Attempts recorded as started (ids and attempt numbers, in the same order): what lets a rescue tell the
 * jobs a dead worker had started from those it only held (see `rescueSql`).
 */
export interface StartMarks {
  ids: string[];
  attempts: number[];
}

/** An attempt that failed, as `WorkerStore.fail` records it. */
export interface FailedAttempt {
  id: string;
  workerId: string;
  attempt: number;
  /** The error record as storable JSON text (a `JobErrorRecord`). */
  error: string;
  /** Run the job again after this many ms; `null` ends it `failed`. */
  retryDelayMs: number | null;
}

/** The row of the workers table that describes this process. */
export interface WorkerRow {
  id: string;
  hostname: string;
  pid: number;
  queues: readonly string[];
  concurrency: number;
}

/**
 * Every statement the worker runs, behind typed methods: the port the worker's parts depend on, so unit
 * specs give them an in-memory fake. `WorkerRepository` is the PostgreSQL implementation. Every method
 * that ends an attempt is fenced (it applies only while the row is still `running` under the same worker
 * and attempt) and resolves with how many rows it changed: fenced-out rows are not counted.
 */
export interface WorkerStore {
  /**
   * Claims up to `limit` runnable jobs, in claim order (priority, run time, id), and starts an attempt of
   * each. Jobs a rescue once returned unstarted carry `unstartedRescues`.
   */
  claim(request: ClaimRequest): Promise<JobAttempt[]>;
  /** Completes a batch of attempts in one statement. */
  complete(batch: readonly Completion[], workerId: string): Promise<number>;
  /** Records that these attempts started; resolves with how many rows it marked (fenced). */
  markStarted(marks: StartMarks, workerId: string): Promise<number>;
  /** Fails one attempt: retried after `retryDelayMs`, or ended `failed` when it is `null`. */
  fail(attempt: FailedAttempt): Promise<number>;
  /** Ends an attempt without counting it; the job runs again after `delayMs`. */
  snooze(job: { id: string; attempt: number }, workerId: string, delayMs: number): Promise<number>;
  /** Gives claimed jobs back without counting their attempt (shutdown, or never started). */
  release(jobs: ReadonlyArray<{ id: string; attempt: number }>, workerId: string): Promise<number>;
  /** Pushes the leases of the given jobs of this worker `leaseMs` into the future, recording `marks` too. */
  extendLeases(
    ids: readonly string[],
    workerId: string,
    leaseMs: number,
    marks?: StartMarks,
  ): Promise<void>;
  /**
   * Returns (or fails, when out of attempts) jobs whose lease expired, counting the attempt only of those
   * that had started; resolves with how many.
   */
  rescue(): Promise<number>;
  /** Records this worker (or refreshes its heartbeat), waiting at most `lockTimeoutMs` for a lock. */
  upsertWorker(worker: WorkerRow, lockTimeoutMs: number): Promise<void>;
  /** Forgets workers silent for `silentForMs`, waiting at most `lockTimeoutMs` for a lock. */
  forgetSilentWorkers(silentForMs: number, lockTimeoutMs: number): Promise<void>;
  /** Removes this worker's row, waiting at most `lockTimeoutMs` for a lock. */
  deleteWorker(id: string, lockTimeoutMs: number): Promise<void>;
  /** Deletes up to `limit` rate windows that ended over a minute ago; resolves with how many. */
  pruneRateWindows(limit: number): Promise<number>;
  /**
   * Deletes up to `limit` jobs in the finished `state` that finished more than `olderThanMs` ago and not
   * before `after` (the `last` of the previous batch, null for the first), oldest first; resolves with
   * how many and the newest `finished_at` deleted (text, exact), which the next batch starts from.
   */
  purgeFinished(request: PurgeRequest): Promise<PurgeBatch>;
}
