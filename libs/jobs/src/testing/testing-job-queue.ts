import type { ModuleRef } from '@nestjs/core';
import type { JobDefinition } from '../discovery/job-definition';
import type { JobRegistry } from '../discovery/job.registry';
import { JobCancelledError, JobsError } from '../errors';
import type { JobRecord } from '../interfaces';
import type { ResolvedJobsOptions } from '../jobs-options';
import type { JobsDatabase } from '../persistence/jobs-database';
import type { TickGuard } from '../scheduling/tick-guard';
import type { BulkJob, EnqueueOptions, JobClass } from '../interfaces/enqueue-options.interface';
import { FailedJobsFilter, JobQueueService, QueueStateCount } from '../queue/job-queue.service';
import type { TenantContext } from '../tenancy/tenant-context';
import type { JobRunner } from '../worker/job-runner';
import type { CapturedJobRunner } from './captured-job-runner';
import type { CapturedJobEntry, CapturedJobsStore } from './captured-jobs.store';
import type { JobsTestingMode } from './jobs-testing.options';

/** The error of an operation only the real, PostgreSQL-backed queue has. */
function needsRealModule(operation: string): JobsError {
  return new JobsError(
    `${operation} needs the real JobsModule (PostgreSQL): JobsTestingModule keeps jobs in memory and ` +
      `does not implement it. Test this code against JobsModule.forRoot() with a database instead.`,
  );
}

/**
 * Stands in for a dependency only the SQL paths use, all of which this class overrides: if a future one
 * is missed, the test fails with a clear error rather than "cannot read properties of undefined".
 */
function sqlOnly<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get: () => {
      throw needsRealModule(what);
    },
  });
}

/**
 * `JobQueueService` for tests, provided in its place by `JobsTestingModule`: the same validation,
 * serialization and tenant capture (the base class's `prepare`), but jobs are recorded in memory instead
 * of inserted, and in `inline` mode performed at once.
 *
 * Not supported (they throw a `JobsError`): `oncePerTick`, `listFailed`, `retry`, `discard`, `purge`.
 * The `manager` option (and an ambient `@nestjs-cls/transactional` transaction) is ignored: a captured
 * job is recorded at once and never rolled back with the caller's transaction.
 */
export class TestingJobQueue extends JobQueueService {
  // Built by a factory provider (see `JobsTestingModule`), not by class injection: Nest reads `@Inject`
  // parameter metadata through the prototype chain, so the base class's `@Inject(RESOLVED_JOBS_OPTIONS)`
  // at index 6 would be applied to this constructor's 7th parameter too.
  constructor(
    registry: JobRegistry,
    tenancy: TenantContext,
    runner: JobRunner,
    moduleRef: ModuleRef,
    options: ResolvedJobsOptions,
    private readonly store: CapturedJobsStore,
    private readonly performer: CapturedJobRunner,
    private readonly mode: JobsTestingMode,
  ) {
    super(
      registry,
      tenancy,
      runner,
      sqlOnly<JobsDatabase>('This operation'),
      sqlOnly<TickGuard>('oncePerTick'),
      moduleRef,
      options,
    );
  }

  override performLater<P>(
    job: JobClass<P>,
    payload: NoInfer<P>,
    options: EnqueueOptions = {},
  ): Promise<string> {
    if (options.oncePerTick !== undefined) return Promise.reject(needsRealModule('oncePerTick'));
    return super.performLater(job, payload, options);
  }

  override performAllLater<P>(
    job: JobClass<P>,
    jobs: ReadonlyArray<BulkJob<NoInfer<P>>>,
    options: Pick<EnqueueOptions, 'manager' | 'oncePerTick'> = {},
  ): Promise<string[]> {
    if (options.oncePerTick !== undefined) return Promise.reject(needsRealModule('oncePerTick'));
    return super.performAllLater(job, jobs, options);
  }

  /**
   * Records the jobs instead of writing them (`manager` is ignored), after the same `prepare` as the real
   * queue. A `uniqueKey` held by an unfinished captured job returns that job's id and records nothing, as
   * the real queue does. In `inline` mode each new job is then performed in order; once all have run, the
   * first error is thrown.
   */
  protected override async write<P>(
    definition: JobDefinition,
    items: ReadonlyArray<BulkJob<P>>,
  ): Promise<string[]> {
    const prepared = await this.prepare(definition, items);
    const added: CapturedJobEntry[] = [];
    const ids = prepared.map((p) => {
      const holder = this.store.holderOf(p.uniqueKey);
      if (holder) return holder.id;
      const entry = this.store.add(p, definition.type as JobClass);
      added.push(entry);
      return entry.id;
    });
    if (this.mode === 'inline') await this.performInline(added);
    return ids;
  }

  /** A captured job as `JobRecord`; `null` for an unknown id. */
  override async find(id: string): Promise<JobRecord | null> {
    const entry = this.store.get(id);
    return entry ? toJobRecord(entry) : null;
  }

  /** Counts of the captured jobs by queue and state, sorted like the real query. */
  override async countByState(): Promise<QueueStateCount[]> {
    const counts = new Map<string, QueueStateCount>();
    for (const entry of this.store.all()) {
      const state = reportedState(entry);
      const key = `${entry.queue}\u0000${state}`;
      const row = counts.get(key) ?? { queue: entry.queue, state, count: 0 };
      row.count += 1;
      counts.set(key, row);
    }
    return [...counts.values()].sort(
      (a, b) => compare(a.queue, b.queue) || compare(a.state, b.state),
    );
  }

  /**
   * Cancels a captured job that has not finished: an available one will not be performed; a running one
   * has its `ctx.signal` aborted with `JobCancelledError` and its outcome is not recorded.
   */
  override async cancel(id: string): Promise<boolean> {
    const entry = this.store.get(id);
    if (!entry || (entry.state !== 'available' && entry.state !== 'running')) return false;
    entry.state = 'cancelled';
    entry.finishedAt = new Date();
    entry.controller?.abort(new JobCancelledError(id));
    return true;
  }

  /** Not supported in tests: throws a `JobsError`. */
  override listFailed(
    _filter?: FailedJobsFilter,
  ): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
    return Promise.reject(needsRealModule('listFailed'));
  }

  /** Not supported in tests: throws a `JobsError`. */
  override retry(_id: string): Promise<boolean> {
    return Promise.reject(needsRealModule('retry'));
  }

  /** Not supported in tests: throws a `JobsError`. */
  override discard(_id: string): Promise<boolean> {
    return Promise.reject(needsRealModule('discard'));
  }

  /** Not supported in tests: throws a `JobsError`. */
  override purge(_options: {
    olderThanMs: number;
    states?: Array<'completed' | 'failed' | 'cancelled'>;
  }): Promise<number> {
    return Promise.reject(needsRealModule('purge'));
  }

  /**
   * Each job runs in a fresh CLS context in its captured account (so jobs it enqueues inherit that
   * account, and are themselves performed inline, depth first).
   */
  private async performInline(entries: CapturedJobEntry[]): Promise<void> {
    let firstError: Error | undefined;
    for (const entry of entries) {
      const outcome = await this.performer.perform(entry);
      if (outcome.kind === 'failed') firstError ??= outcome.error;
    }
    if (firstError) throw firstError;
  }
}

function reportedState(entry: CapturedJobEntry): JobRecord['state'] {
  return entry.state === 'available' && entry.scheduledAt.getTime() > Date.now()
    ? 'scheduled'
    : entry.state;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function toJobRecord(entry: CapturedJobEntry): JobRecord {
  return {
    id: entry.id,
    name: entry.name,
    queue: entry.queue,
    priority: entry.priority,
    state: reportedState(entry),
    payload: entry.payload,
    accountId: entry.accountId,
    attempts: entry.attempts,
    maxAttempts: entry.maxAttempts,
    runAt: entry.scheduledAt,
    createdAt: entry.enqueuedAt,
    startedAt: entry.startedAt,
    finishedAt: entry.finishedAt,
    durationMs:
      entry.finishedAt && entry.startedAt
        ? entry.finishedAt.getTime() - entry.startedAt.getTime()
        : null,
    lastError: entry.errors.at(-1) ?? null,
    errors: [...entry.errors],
    result: entry.result ?? null,
    uniqueKey: entry.uniqueKey ?? null,
    lockedBy: null,
    lockedUntil: null,
  };
}
