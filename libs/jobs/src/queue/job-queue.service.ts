import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import type {
  BulkJob,
  EnqueueOptions,
  FailedJobsFilter,
  FailedJobsPage,
  JobClass,
  JobRecord,
  PerformNowOptions,
  PurgeOptions,
  QueueStateCount,
} from '../interfaces';
import { JOB_STORE, JobStore } from '../persistence/job-store';
import { PerformNowRunner } from '../worker/perform-now.runner';
import { ambientEntityManager } from './ambient-transaction';
import { EnqueuePipeline } from './enqueue-pipeline';
import { OncePerTick } from './once-per-tick';

/** Job ids are bigints; anything else cannot name a job (and must not reach a `bigint` cast). */
const isJobId = (id: string): boolean => /^\d{1,19}$/.test(id);

/**
 * The application's API to the queue: enqueue jobs (now, later, in bulk, inside a transaction), run one
 * inline, look jobs up, cancel, retry, discard and purge them. Inject it anywhere once `JobsModule` is
 * imported. Ids that cannot name a job find nothing (`null` / `false`).
 */
@Injectable()
export class JobQueueService {
  constructor(
    private readonly pipeline: EnqueuePipeline,
    private readonly oncePerTick: OncePerTick,
    private readonly performer: PerformNowRunner,
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

  /** A job by id, or `null`. */
  async find(id: string): Promise<JobRecord | null> {
    return isJobId(id) ? this.store.find(id) : null;
  }

  /** Job counts by queue and state (`scheduled` counted apart from `available`). */
  async countByState(): Promise<QueueStateCount[]> {
    return this.store.countByState();
  }

  /**
   * Cancels a job that has not finished. A scheduled or available job will never run; a running job's
   * `ctx.signal` is aborted (with `JobCancelledError`) and whatever it does afterwards is not recorded.
   * Returns `false` when the job already finished or does not exist.
   */
  async cancel(id: string): Promise<boolean> {
    return isJobId(id) && this.store.cancel(id);
  }

  /**
   * Retries a `failed` or `cancelled` job by hand: it becomes runnable now with one more attempt allowed,
   * in its original account, keeping its error history. Returns `false` for a job in any other state;
   * throws a `JobsError` while another unfinished job holds its `uniqueKey`.
   */
  async retry(id: string): Promise<boolean> {
    return isJobId(id) && this.store.retry(id);
  }

  /**
   * Failed jobs with their error history, newest first, one page at a time: pass the returned
   * `nextCursor` as `after` for the next page (`null` when there is none).
   */
  async listFailed(filter: FailedJobsFilter = {}): Promise<FailedJobsPage> {
    const limit = Math.min(Math.max(1, filter.limit ?? 50), 1_000);
    const jobs = await this.store.listFailed({ ...filter, limit });
    return { jobs, nextCursor: jobs.length === limit ? jobs[jobs.length - 1].id : null };
  }

  /** Deletes a `failed` or `cancelled` job for good (it is not retried). Returns `false` in any other state. */
  async discard(id: string): Promise<boolean> {
    return isJobId(id) && this.store.discard(id);
  }

  /**
   * Deletes finished jobs (by default every finished state) that finished more than `olderThanMs` ago;
   * returns how many. The worker runs this on the `retention` schedule; call it for a one-off clean-up.
   */
  async purge(options: PurgeOptions): Promise<number> {
    const states = options.states ?? ['completed', 'failed', 'cancelled'];
    return this.store.purge(states, options.olderThanMs);
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
    );
  }
}
