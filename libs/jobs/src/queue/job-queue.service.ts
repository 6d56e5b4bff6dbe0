import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type {
  BulkJob,
  EnqueueOptions,
  FailedJobsFilter,
  FailedJobsPage,
  JobClass,
  JobRecord,
  OperationScope,
  PerformNowOptions,
  PurgeOptions,
  QueueStateCount,
} from '../interfaces';
import { JOB_STORE, JobStore } from '../persistence/job-store';
import { TenantContext } from '../tenancy/tenant-context';
import { toJobId } from '../values';
import { PerformNowRunner } from '../worker/perform-now.runner';
import { ambientEntityManager } from './ambient-transaction';
import { EnqueuePipeline } from './enqueue-pipeline';
import { OncePerTick } from './once-per-tick';
import { checkListFailed, checkPurge } from './operation-arguments';
import { resolveOperationScope } from './operation-scope';

/**
 * The application's API to the queue: enqueue jobs (now, later, in bulk, inside a transaction), run one
 * inline, look jobs up, cancel, retry, discard and purge them. Inject it anywhere once `JobsModule` is
 * imported. Ids that cannot name a job (`'abc'`, `'007'`, beyond 2^63 − 1) find nothing (`null` /
 * `false`): no job has them. Other bad arguments throw `InvalidArgumentError` before any statement.
 *
 * Operations are tenant-scoped (`OperationScope`): inside an account's CLS context they see and change
 * only that account's jobs, and another account's job is "not found" (`null` / `false`); outside any
 * account, or with `{ allAccounts: true }`, they act on every account and the global jobs; with
 * `{ accountId }`, on that account's.
 */
@Injectable()
export class JobQueueService {
  constructor(
    private readonly pipeline: EnqueuePipeline,
    private readonly oncePerTick: OncePerTick,
    private readonly performer: PerformNowRunner,
    private readonly tenancy: TenantContext,
    @Inject(JOB_STORE) private readonly store: JobStore,
  ) {}

  /**
   * Enqueues one job and returns its id. The payload is validated first (an invalid one throws
   * `InvalidPayloadError` and nothing is written); the current account is captured from CLS.
   *
   * @example await this.jobs.performLater(ConfirmOrderJob, { orderId }, { delayMs: 5_000 });
   */
  async performLater<P>(
    job: JobClass<P>,
    payload: NoInfer<P>,
    options: EnqueueOptions = {},
  ): Promise<string> {
    const { manager, oncePerTick, ...itemOptions } = options;
    const [id] = await this.enqueue(job, [{ ...itemOptions, payload }], manager, oncePerTick);
    return id;
  }

  /**
   * Enqueues many jobs of one class in a single INSERT and returns their ids in order. Every payload is
   * validated before anything is written. Each item may carry its own options (e.g. `accountId` to fan
   * out one job per account from system code).
   */
  async performAllLater<P>(
    job: JobClass<P>,
    jobs: ReadonlyArray<BulkJob<NoInfer<P>>>,
    options: Pick<EnqueueOptions, 'manager' | 'oncePerTick'> = {},
  ): Promise<string[]> {
    return this.enqueue(job, jobs, options.manager, options.oncePerTick);
  }

  /**
   * Performs a job in this process now, without persisting it, with the same validation and tenant rules
   * as the worker (a fresh CLS context in the current or given account), and returns its result. Errors
   * are thrown to the caller; nothing is retried.
   */
  async performNow<P, R>(
    job: JobClass<P, R>,
    payload: NoInfer<P>,
    options: PerformNowOptions = {},
  ): Promise<Awaited<R>> {
    return this.performer.perform(job, payload, options);
  }

  /** A job by id, or `null` (also for a job outside `scope`: another account's, say). */
  async find(id: string, scope?: OperationScope): Promise<JobRecord | null> {
    const account = this.scope('find', scope);
    const jobId = toJobId(id);
    return jobId === undefined ? null : this.store.find(jobId, account);
  }

  /** Job counts by queue and state (`scheduled` counted apart from `available`), of the jobs in `scope`. */
  async countByState(scope?: OperationScope): Promise<QueueStateCount[]> {
    return this.store.countByState(this.scope('countByState', scope));
  }

  /**
   * Cancels a job that has not finished. A scheduled or available job will never run; a running job's
   * `ctx.signal` is aborted (with `JobCancelledError`) and whatever it does afterwards is not recorded.
   * Returns `false` when the job already finished, does not exist or is outside `scope`.
   */
  async cancel(id: string, scope?: OperationScope): Promise<boolean> {
    const account = this.scope('cancel', scope);
    const jobId = toJobId(id);
    return jobId !== undefined && this.store.cancel(jobId, account);
  }

  /**
   * Retries a `failed` or `cancelled` job by hand: it becomes runnable now with one more attempt allowed,
   * in its original account, keeping its error history. Returns `false` for a job in any other state
   * or outside `scope`; throws a `JobsError` while another unfinished job holds its `uniqueKey`.
   */
  async retry(id: string, scope?: OperationScope): Promise<boolean> {
    const account = this.scope('retry', scope);
    const jobId = toJobId(id);
    return jobId !== undefined && this.store.retry(jobId, account);
  }

  /**
   * Failed jobs with their error history, newest first, one page at a time: pass the returned
   * `nextCursor` as `after` for the next page (`null` when there is none). Only the jobs in the
   * filter's scope are listed (`OperationScope`: `accountId` narrows to one account from anywhere).
   * Throws `InvalidArgumentError` for a `limit` outside 1–1,000, an `after` that is not a job id, or a
   * `name` / `queue` no job can have.
   */
  async listFailed(filter: FailedJobsFilter = {}): Promise<FailedJobsPage> {
    checkListFailed(filter);
    const account = this.scope('listFailed', filter);
    const limit = filter.limit ?? 50;
    const { name, queue, after } = filter;
    const jobs = await this.store.listFailed({ name, queue, after, limit, account });
    return { jobs, nextCursor: jobs.length === limit ? jobs[jobs.length - 1].id : null };
  }

  /**
   * Deletes a `failed` or `cancelled` job for good (it is not retried). Returns `false` in any other
   * state or outside `scope`.
   */
  async discard(id: string, scope?: OperationScope): Promise<boolean> {
    const account = this.scope('discard', scope);
    const jobId = toJobId(id);
    return jobId !== undefined && this.store.discard(jobId, account);
  }

  /**
   * Deletes finished jobs (by default every finished state) that finished more than `olderThanMs` ago;
   * returns how many, of the jobs in the options' scope (`OperationScope`). The worker sweeps every
   * account on the `retention` schedule; call this for a one-off clean-up. Throws `InvalidArgumentError`
   * for an `olderThanMs` that is not 0 to 100 years of milliseconds, or an unknown state.
   */
  async purge(options: PurgeOptions): Promise<number> {
    checkPurge(options);
    const account = this.scope('purge', options);
    const states = options.states ?? ['completed', 'failed', 'cancelled'];
    return this.store.purge(states, options.olderThanMs, account);
  }

  /** The store's account filter for `operation` (see `resolveOperationScope`). */
  private scope(operation: string, scope: OperationScope | undefined) {
    return resolveOperationScope(operation, scope, this.tenancy);
  }

  /** Outside a transaction, an active `@nestjs-cls/transactional` one is joined; `oncePerTick` guards the tick. */
  private enqueue<P>(
    job: JobClass<P>,
    items: ReadonlyArray<BulkJob<P>>,
    manager: EntityManager | undefined,
    oncePerTick: string | undefined,
  ): Promise<string[]> {
    if (oncePerTick === undefined) {
      return this.pipeline.enqueue(job, items, manager ?? ambientEntityManager());
    }
    return this.oncePerTick.enqueue(
      oncePerTick,
      (m) => this.pipeline.enqueue(job, items, m),
      manager ?? ambientEntityManager(),
      this.pipeline.nameOf(job),
    );
  }
}
