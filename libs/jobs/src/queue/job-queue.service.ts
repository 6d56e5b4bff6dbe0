import { Inject, Injectable } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { SchedulerRegistry } from '@nestjs/schedule';
import type { EntityManager } from 'typeorm';
import { FireTimes } from '../scheduling/fire-times';
import { TickGuard } from '../scheduling/tick-guard';
import { randomUUID } from 'node:crypto';
import type { JobDefinition } from '../discovery/job-definition';
import { JobRegistry } from '../discovery/job.registry';
import type { JobRecord, JobState } from '../interfaces';
import { EnqueueFailedError, JobsError, toError } from '../errors';
import { SnoozeSignal } from '../errors/snooze.signal';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { JobsDatabase } from '../persistence/jobs-database';
import {
  enqueueDocument,
  EnqueueRow,
  enqueueSql,
  findByUniqueKeysSql,
} from '../persistence/sql/enqueue.sql';
import { listFailedSql, purgeFinished } from '../persistence/sql/operations.sql';
import { JobRunner } from '../worker/job-runner';
import { TenantContext } from '../tenancy/tenant-context';
import { ambientEntityManager } from './ambient-transaction';
import type {
  BulkJob,
  EnqueueOptions,
  JobClass,
  PerformNowOptions,
} from '../interfaces/enqueue-options.interface';
import { cancelChannel, notifyChannel } from '../persistence/notify-channel';
import { validateEnqueueOptions } from './enqueue-options.validation';
import { cancelSql } from '../persistence/sql/finish.sql';
import { toJobRecord, JobRow } from '../persistence/job-row';
import { serializePayload, toValidPayload } from '../payload/payload';

/**
 * From this many items, a bulk enqueue outside a transaction validates payloads while the insert runs
 * (see `insertWhileValidating`); below it, the extra round-trips of a transaction would cost more than the
 * overlap saves.
 */
const OVERLAPPED_ENQUEUE_MIN = 100;

/** PostgreSQL's SQLSTATE for a unique index violation. */
const UNIQUE_VIOLATION = '23505';

/** Job ids are bigints; anything else cannot name a job (and must not reach a `bigint` cast). */
const isJobId = (id: string): boolean => /^\d{1,19}$/.test(id);

/** Filter and page of `listFailed()`. */
export interface FailedJobsFilter {
  name?: string;
  queue?: string;
  accountId?: string;
  /** Page size, 1–1,000. Default `50`. */
  limit?: number;
  /** The `nextCursor` of the previous page. */
  after?: string;
}

/** A row of `countByState()`. */
export interface QueueStateCount {
  queue: string;
  state: JobState;
  count: number;
}

/**
 * One job ready to be written: validated, serialized and with its account captured (`prepare`'s output,
 * `insert`'s input). `null` stands for an option left unset.
 */
export interface PreparedJob extends EnqueueRow {
  /** The payload as the caller passed it (`payloadJson` is its JSON text). */
  payload: unknown;
}

/**
 * The application's API to the queue: enqueue jobs (now, later, in bulk, inside a transaction), run one
 * inline, look jobs up and cancel them. Inject it anywhere once `JobsModule` is imported.
 */
@Injectable()
export class JobQueueService {
  private readonly enqueueText: string;

  // `db` and `tickGuard` are only touched by the SQL paths, which a subclass (the testing queue) may
  // replace; it then passes no database at all.
  constructor(
    protected readonly registry: JobRegistry,
    protected readonly tenancy: TenantContext,
    protected readonly runner: JobRunner,
    private readonly db: JobsDatabase,
    private readonly tickGuard: TickGuard,
    private readonly moduleRef: ModuleRef,
    @Inject(RESOLVED_JOBS_OPTIONS) protected readonly options: ResolvedJobsOptions,
  ) {
    this.enqueueText = enqueueSql(options.schema, notifyChannel(options.schema));
  }

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
    const [id] = await this.enqueueMaybeOnce(
      job,
      [{ ...itemOptions, payload }],
      manager,
      oncePerTick,
    );
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
    return this.enqueueMaybeOnce(job, jobs, options.manager, options.oncePerTick);
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
    const definition = this.registry.forType(job);
    const accountId = this.tenancy.captureFor(definition, options.accountId);
    serializePayload(definition, payload, this.options.maxPayloadBytes); // same size limit as an enqueue
    // The runner validates the payload (as it does before every perform) and throws InvalidPayloadError.
    const attempt = {
      id: `now-${randomUUID()}`,
      name: definition.name,
      queue: definition.queue,
      payload,
      accountId,
      attempt: 1,
      maxAttempts: 1,
    };
    try {
      return (await this.runner.execute(
        definition,
        attempt,
        new AbortController().signal,
      )) as Awaited<R>;
    } catch (error) {
      if (error instanceof SnoozeSignal) {
        throw new JobsError(
          `Job "${definition.name}" snoozed in performNow, which runs it once; enqueue it to allow snoozing.`,
        );
      }
      throw error;
    }
  }

  /** A job by id, or `null`. */
  async find(id: string): Promise<JobRecord | null> {
    if (!isJobId(id)) return null;
    const rows = await this.db.query<JobRow>(
      `select *, id::text as id, now() as db_now from "${this.options.schema}".jobs where id = $1`,
      [id],
    );
    return rows[0] ? toJobRecord(rows[0]) : null;
  }

  /** Job counts by queue and state (`scheduled` counted apart from `available`). */
  async countByState(): Promise<QueueStateCount[]> {
    const rows = await this.db.query<{ queue: string; state: JobState; count: string }>(
      `select queue,
              case when state = 'available' and run_at > now() then 'scheduled' else state end as state,
              count(*) as count
       from "${this.options.schema}".jobs group by 1, 2 order by 1, 2`,
      [],
    );
    return rows.map((r) => ({ queue: r.queue, state: r.state, count: Number(r.count) }));
  }

  /**
   * Cancels a job that has not finished. A scheduled or available job will never run; a running job's
   * `ctx.signal` is aborted (with `JobCancelledError`) and whatever it does afterwards is not recorded.
   * Returns `false` when the job already finished or does not exist.
   */
  async cancel(id: string): Promise<boolean> {
    if (!isJobId(id)) return false;
    const rows = await this.db.query(
      cancelSql(this.options.schema, cancelChannel(this.options.schema)),
      [id],
    );
    return rows.length === 1;
  }

  /**
   * Retries a `failed` or `cancelled` job by hand: it becomes runnable now with one more attempt allowed,
   * in its original account, keeping its error history. Returns `false` for a job in any other state.
   */
  async retry(id: string): Promise<boolean> {
    if (!isJobId(id)) return false;
    try {
      // One statement: the job becomes available and idle workers are woken, or neither happens.
      const rows = await this.db.query(
        `with retried as (
           update "${this.options.schema}".jobs
           set state = 'available', run_at = now(), finished_at = null,
               max_attempts = greatest(max_attempts, attempts + 1)
           where id = $1 and state in ('failed', 'cancelled') returning id
         )
         select id, pg_notify($2, '') from retried`,
        [id, notifyChannel(this.options.schema)],
      );
      return rows.length === 1;
    } catch (error) {
      if ((error as { code?: string }).code === UNIQUE_VIOLATION) {
        throw new JobsError(
          `Job ${id} cannot be retried: its uniqueKey is held by another unfinished job. Let that job ` +
            `finish (or cancel it), then retry.`,
          { cause: error },
        );
      }
      throw error;
    }
  }

  /**
   * Failed jobs with their error history, newest first, one page at a time: pass the returned
   * `nextCursor` as `after` for the next page (`null` when there is none).
   */
  async listFailed(
    filter: FailedJobsFilter = {},
  ): Promise<{ jobs: JobRecord[]; nextCursor: string | null }> {
    const limit = Math.min(Math.max(1, filter.limit ?? 50), 1_000);
    const rows = await this.db.query<JobRow>(listFailedSql(this.options.schema), [
      filter.after ?? null,
      filter.name ?? null,
      filter.queue ?? null,
      filter.accountId ?? null,
      limit,
    ]);
    const jobs = rows.map(toJobRecord);
    return { jobs, nextCursor: jobs.length === limit ? jobs[jobs.length - 1].id : null };
  }

  /** Deletes a `failed` or `cancelled` job for good (it is not retried). Returns `false` in any other state. */
  async discard(id: string): Promise<boolean> {
    if (!isJobId(id)) return false;
    const rows = await this.db.query(
      `delete from "${this.options.schema}".jobs where id = $1 and state in ('failed', 'cancelled') returning id`,
      [id],
    );
    return rows.length === 1;
  }

  /**
   * Deletes finished jobs (by default every finished state) that finished more than `olderThanMs` ago;
   * returns how many. The worker runs this on the `retention` schedule; call it for a one-off clean-up.
   */
  async purge(options: {
    olderThanMs: number;
    states?: Array<'completed' | 'failed' | 'cancelled'>;
  }): Promise<number> {
    const states = options.states ?? ['completed', 'failed', 'cancelled'];
    return purgeFinished(
      (t, v) => this.db.query(t, v),
      this.options.schema,
      states,
      options.olderThanMs,
    );
  }

  /** With `oncePerTick`, the enqueue runs under the tick guard of that cron's current fire time. */
  private async enqueueMaybeOnce<P>(
    job: JobClass<P>,
    items: ReadonlyArray<BulkJob<P>>,
    manager: EntityManager | undefined,
    oncePerTick: string | undefined,
  ): Promise<string[]> {
    if (oncePerTick === undefined) return this.enqueue(job, items, manager);
    const fireTime = this.currentTickOf(oncePerTick);
    const tick = await this.tickGuard.once(
      `cron:${oncePerTick}`,
      fireTime,
      (m) => this.enqueue(job, items, m),
      manager ?? ambientEntityManager(),
    );
    return tick.jobIds;
  }

  private currentTickOf(cronName: string): Date {
    let registry: SchedulerRegistry;
    let cron: ReturnType<SchedulerRegistry['getCronJob']>;
    try {
      registry = this.moduleRef.get(SchedulerRegistry, { strict: false });
      cron = registry.getCronJob(cronName);
    } catch {
      throw new JobsError(
        `oncePerTick: no cron named "${cronName}" in SchedulerRegistry. Name your cron ` +
          `(@Cron(expression, { name: '${cronName}' })) and import ScheduleModule.forRoot() in the app module.`,
      );
    }
    const fireTime = new FireTimes(String(cron.cronTime.source), cron.cronTime.timeZone).current(
      new Date(),
    );
    if (!fireTime)
      throw new JobsError(`oncePerTick: cron "${cronName}" has no fire time in the past year.`);
    return fireTime;
  }

  private async enqueue<P>(
    job: JobClass<P>,
    items: ReadonlyArray<BulkJob<P>>,
    manager = ambientEntityManager(),
  ): Promise<string[]> {
    if (items.length === 0) return [];
    return this.write(this.registry.forType(job), items, manager);
  }

  /**
   * Validates, serializes and captures the account of every item, then writes them all or none, and
   * returns their ids in item order. A seam for subclasses: the testing queue (`nestjs-tenant-jobs/testing`)
   * records the `prepare`d jobs instead, so tests see the same validation and tenant rules as production.
   */
  protected async write<P>(
    definition: JobDefinition,
    items: ReadonlyArray<BulkJob<P>>,
    manager: EntityManager | undefined,
  ): Promise<string[]> {
    if (manager || items.length < OVERLAPPED_ENQUEUE_MIN) {
      return this.insert(await this.prepare(definition, items), manager);
    }
    return this.insertWhileValidating(definition, items);
  }

  /**
   * A large bulk enqueue outside the caller's transaction: the payload classes' validation (most of its
   * time in node) runs while PostgreSQL inserts the rows, in a transaction of its own that commits only if
   * every payload is valid and rolls back otherwise. Nothing invalid is ever visible, notified or kept,
   * exactly as when validation comes first; the enqueue takes the longer of the two instead of their sum.
   * Options, serialization and tenant capture are checked for every item before the insert is sent.
   */
  private async insertWhileValidating<P>(
    definition: JobDefinition,
    items: ReadonlyArray<BulkJob<P>>,
  ): Promise<string[]> {
    const prepared = items.map((item, index) => {
      validateEnqueueOptions(definition, item, `[${index}]`);
      return this.describe(definition, item);
    });
    // Started once the insert is on its way (validation is mostly synchronous work: started earlier, it
    // would all run before the insert is even sent).
    let validation: Promise<void> | undefined;
    const validate = () => (validation ??= this.validatePayloads(definition, items));
    let rows: Array<{ id: string; unique_key: string | null }>;
    try {
      rows = await this.db.transaction(async (query) => {
        const insertion = query<{ id: string; unique_key: string | null }>(
          this.enqueueText,
          [enqueueDocument(prepared)],
          `${this.options.schema}.enqueue`,
        );
        const [valid, inserted] = await Promise.allSettled([validate(), insertion]);
        if (valid.status === 'rejected') throw valid.reason;
        if (inserted.status === 'rejected') throw inserted.reason;
        return inserted.value;
      });
    } catch (error) {
      await validate(); // an invalid payload is the caller's error to fix, whatever the database did
      throw new EnqueueFailedError(definition.name, toError(error));
    }
    if (rows.length === prepared.length) return rows.map((r) => r.id);
    return this.withExistingIds(prepared, rows, undefined);
  }

  /**
   * Everything an enqueue does before it touches the database: validates every payload (all of them before
   * anything is written), serializes it under the size limit and captures each job's account (failing
   * closed). Throws `InvalidPayloadError` / `MissingTenantError`; returns one prepared job per item, in order.
   */
  protected async prepare<P>(
    definition: JobDefinition,
    items: ReadonlyArray<BulkJob<P>>,
  ): Promise<PreparedJob[]> {
    const prepared: PreparedJob[] = [];
    for (const [index, item] of items.entries()) {
      const prefix = items.length > 1 ? `[${index}]` : '';
      validateEnqueueOptions(definition, item, prefix);
      await toValidPayload(definition, item.payload, this.options.validatorOptions, prefix);
      prepared.push(this.describe(definition, item));
    }
    return prepared;
  }

  /** Validates every item's payload; throws the first invalid item's `InvalidPayloadError`. */
  private async validatePayloads<P>(
    definition: JobDefinition,
    items: ReadonlyArray<BulkJob<P>>,
  ): Promise<void> {
    const outcomes = await Promise.allSettled(
      items.map((item, index) =>
        toValidPayload(definition, item.payload, this.options.validatorOptions, `[${index}]`),
      ),
    );
    const invalid = outcomes.find((o) => o.status === 'rejected');
    if (invalid) throw invalid.reason;
  }

  /**
   * One item, its options already checked, as a row to insert: its payload serialized under the size limit
   * and its account captured (failing closed). Its payload class is validated by the caller.
   */
  private describe<P>(definition: JobDefinition, item: BulkJob<P>): PreparedJob {
    return {
      name: definition.name,
      queue: item.queue ?? definition.queue,
      priority: item.priority ?? definition.priority,
      payload: item.payload,
      payloadJson: serializePayload(definition, item.payload, this.options.maxPayloadBytes),
      accountId: this.tenancy.captureFor(definition, item.accountId),
      maxAttempts: item.maxAttempts ?? definition.maxAttempts,
      runAt: item.runAt ?? null,
      delayMs: item.delayMs !== undefined ? Math.max(0, Math.round(item.delayMs)) : null,
      uniqueKey: item.uniqueKey ?? null,
    };
  }

  /**
   * Writes prepared jobs (all of one job) in one statement, inside `manager`'s transaction when given, and
   * returns their ids in order; an item whose `uniqueKey` an unfinished job already holds gets that job's id.
   * Throws `EnqueueFailedError` when the database refuses the insert.
   */
  private async insert(prepared: PreparedJob[], manager?: EntityManager): Promise<string[]> {
    if (prepared.length === 0) return [];
    let rows: Array<{ id: string; unique_key: string | null }>;
    try {
      rows = await this.db.query(this.enqueueText, [enqueueDocument(prepared)], {
        manager,
        name: manager ? undefined : `${this.options.schema}.enqueue`,
      });
    } catch (error) {
      throw new EnqueueFailedError(prepared[0].name, toError(error));
    }
    if (rows.length === prepared.length) return rows.map((r) => r.id);
    return this.withExistingIds(prepared, rows, manager);
  }

  /**
   * Some items were deduplicated by `uniqueKey`: return, in item order, the new ids and the ids of the
   * unfinished jobs that already held the other keys.
   */
  private async withExistingIds(
    items: PreparedJob[],
    inserted: Array<{ id: string; unique_key: string | null }>,
    manager: EntityManager | undefined,
  ): Promise<string[]> {
    const byKey = new Map(
      inserted.filter((r) => r.unique_key !== null).map((r) => [r.unique_key, r.id]),
    );
    const missing = items.map((i) => i.uniqueKey).filter((k): k is string => !!k && !byKey.has(k));
    if (missing.length > 0) {
      const existing = await this.db.query<{ id: string; unique_key: string }>(
        findByUniqueKeysSql(this.options.schema),
        [missing],
        { manager },
      );
      for (const row of existing) byKey.set(row.unique_key, row.id);
      // The holder finished between our insert and this look-up, freeing its key: insert those again
      // (already validated and captured, so straight to the insert).
      const freed = items.filter((i) => i.uniqueKey && !byKey.has(i.uniqueKey));
      if (freed.length > 0) {
        const ids = await this.insert(freed, manager);
        freed.forEach((item, n) => byKey.set(item.uniqueKey as string, ids[n]));
      }
    }
    let next = 0;
    const plain = inserted.filter((r) => r.unique_key === null);
    return items.map((item) =>
      item.uniqueKey ? (byKey.get(item.uniqueKey) as string) : plain[next++].id,
    );
  }
}
