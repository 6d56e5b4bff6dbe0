import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { EnqueueFailedError, JobsError, toError } from '../errors';
import type { FinishedJobState, JobRecord, JobState, QueueStateCount } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import type {
  AccountFilter,
  FailedJobsQuery,
  InsertedJob,
  InsertOptions,
  JobStore,
  TickResult,
} from './job-store';
import { JobRow, NewJob, toJobRecord } from './job-row';
import { EnqueueBatcher } from './enqueue-batcher';
import { JobsDatabase } from './jobs-database';
import { cancelChannel, notifyChannel } from './notify-channel';
import {
  enqueueDocument,
  enqueueSql,
  findByUniqueKeysSql,
  quietEnqueueSql,
  wakeWorkersSql,
} from './sql/enqueue.sql';
import {
  cancelSql,
  countByStateSql,
  discardSql,
  findSql,
  listFailedSql,
  purgeFinished,
  retrySql,
} from './sql/operations.sql';
import { TicksRepository } from './ticks.repository';
import { isTransientDatabaseError } from './transient-error';

/**
 * Rows per coalesced insert. A statement of 1,000 small rows takes about 20 ms here, so no caller waits
 * long behind a batch; 50 concurrent single calls make batches of well under 100. A call with more rows
 * still goes alone, whole.
 */
const BATCH_MAX_ROWS = 1_000;

/** PostgreSQL's SQLSTATE for a unique index violation. */
const UNIQUE_VIOLATION = '23505';

type Statement =
  | 'enqueue'
  | 'quietEnqueue'
  | 'wake'
  | 'byUniqueKeys'
  | 'find'
  | 'count'
  | 'cancel'
  | 'retry'
  | 'discard'
  | 'listFailed';

/**
 * The queue's statements on PostgreSQL, with their parameters bound here and nowhere else: the
 * `JobStore` of `JobsModule`. Statement texts are built once per schema.
 */
@Injectable()
export class JobsRepository implements JobStore {
  private readonly schema: string;
  private readonly sql: Record<Statement, string>;
  /** Name of the enqueue's prepared statement: planned once per pooled connection. */
  private readonly enqueueName: string;
  private readonly quietEnqueueName: string;
  private readonly wakeName: string;
  /** Coalesces concurrent enqueues outside a caller's transaction (one commit for many calls). */
  private readonly batcher: EnqueueBatcher;
  /** The wake-up in flight (`wakeWorkers`), and whether another was asked for since it was sent. */
  private waking: Promise<void> | undefined;
  private wakeAgain = false;

  constructor(
    private readonly db: JobsDatabase,
    private readonly ticks: TicksRepository,
    @Inject(RESOLVED_JOBS_OPTIONS) options: ResolvedJobsOptions,
  ) {
    const schema = (this.schema = options.schema);
    this.enqueueName = `${schema}.enqueue`;
    this.quietEnqueueName = `${schema}.enqueue_quiet`;
    this.wakeName = `${schema}.wake`;
    this.sql = {
      enqueue: enqueueSql(schema, notifyChannel(schema)),
      quietEnqueue: quietEnqueueSql(schema),
      wake: wakeWorkersSql(notifyChannel(schema)),
      byUniqueKeys: findByUniqueKeysSql(schema),
      find: findSql(schema),
      count: countByStateSql(schema),
      cancel: cancelSql(schema, cancelChannel(schema)),
      retry: retrySql(schema),
      discard: discardSql(schema),
      listFailed: listFailedSql(schema),
    };
    this.batcher = new EnqueueBatcher(
      (jobs, alone) => this.insertNow(jobs, alone),
      {
        // One of the queue pool's connections stays free for look-ups and operations.
        maxInFlight: Math.max(1, options.database.poolSize - 1),
        maxRows: BATCH_MAX_ROWS,
      },
      () => new Error('the jobs module has shut down (its connections are closed)'),
    );
    db.beforeEnd(async () => {
      await this.batcher.close();
      while (this.waking) await this.waking; // a wake-up may ask for one more as it ends
    });
  }

  /**
   * One insert of the batcher. Alone, it notifies in the same statement (one round-trip: the latency of
   * an idle enqueue). Beside others, it does not (`quietEnqueueSql`: notifying transactions commit one
   * at a time), and workers are woken once it has committed.
   */
  private async insertNow(jobs: readonly NewJob[], alone: boolean): Promise<InsertedJob[]> {
    const document = [enqueueDocument(jobs)];
    if (alone) {
      return this.db.query<InsertedJob>(this.sql.enqueue, document, { name: this.enqueueName });
    }
    const rows = await this.db.query<InsertedJob & { due: boolean }>(
      this.sql.quietEnqueue,
      document,
      { name: this.quietEnqueueName },
    );
    if (rows.some((row) => row.due)) this.wakeWorkers();
    return rows;
  }

  /**
   * Notifies idle workers after quiet inserts committed: one wake-up in flight at most, and one more
   * after it if another was asked for meanwhile (its insert may have committed after the first was
   * sent). A failed wake-up is left to the workers' polling.
   */
  private wakeWorkers(): void {
    if (this.waking) {
      this.wakeAgain = true;
      return;
    }
    const ignore = () => undefined;
    this.waking = this.db
      .query(this.sql.wake, [], { name: this.wakeName })
      .then(ignore, ignore)
      .finally(() => {
        this.waking = undefined;
        if (this.wakeAgain) {
          this.wakeAgain = false;
          this.wakeWorkers();
        }
      });
  }

  /**
   * Inside the caller's transaction, one statement on its connection. Outside one, through the batcher,
   * which coalesces concurrent calls into one statement (see `EnqueueBatcher`); each call still gets its
   * own rows, and its own `EnqueueFailedError` naming its job.
   */
  async insert(jobs: readonly NewJob[], options: InsertOptions = {}): Promise<InsertedJob[]> {
    if (options.validation) return this.insertWhileValidating(jobs, options.validation);
    const manager = options.manager;
    this.db.checkManager(manager, jobs[0].name);
    try {
      if (!manager) return await this.batcher.insert(jobs);
      return await this.db.query<InsertedJob>(this.sql.enqueue, [enqueueDocument(jobs)], {
        manager,
      });
    } catch (error) {
      throw enqueueFailed(jobs[0].name, error);
    }
  }

  /**
   * The insert runs in a transaction of its own while `validation` runs in node; it commits only if
   * validation resolves, so nothing invalid is ever visible, notified or kept, and the enqueue takes the
   * longer of the two instead of their sum. Validation starts once the insert is on its way: it is mostly
   * synchronous work, which started earlier would all run before the statement is even sent.
   */
  private async insertWhileValidating(
    jobs: readonly NewJob[],
    validation: () => Promise<void>,
  ): Promise<InsertedJob[]> {
    let validating: Promise<void> | undefined;
    const validate = () => (validating ??= validation());
    try {
      return await this.db.transaction(async (query) => {
        const insertion = query<InsertedJob>(
          this.sql.enqueue,
          [enqueueDocument(jobs)],
          this.enqueueName,
        );
        const [valid, inserted] = await Promise.allSettled([validate(), insertion]);
        if (valid.status === 'rejected') throw valid.reason;
        if (inserted.status === 'rejected') throw inserted.reason;
        return inserted.value;
      });
    } catch (error) {
      await validate(); // an invalid payload is the caller's error to fix, whatever the database did
      throw enqueueFailed(jobs[0].name, error);
    }
  }

  findByUniqueKeys(keys: string[], manager?: EntityManager): Promise<InsertedJob[]> {
    this.db.checkManager(manager, 'unique key look-up');
    return this.db.query<InsertedJob>(this.sql.byUniqueKeys, [keys], { manager });
  }

  async find(id: string, account: AccountFilter): Promise<JobRecord | null> {
    const [row] = await this.db.query<JobRow & { db_now: Date }>(this.sql.find, [id, account]);
    return row ? toJobRecord(row, row.db_now) : null;
  }

  async countByState(account: AccountFilter): Promise<QueueStateCount[]> {
    const rows = await this.db.query<{
      queue: string;
      state: JobState;
      count: string;
      paused: boolean;
    }>(this.sql.count, [account]);
    return rows.map((r) => ({
      queue: r.queue,
      state: r.state,
      count: Number(r.count),
      paused: r.paused,
    }));
  }

  async cancel(id: string, account: AccountFilter): Promise<boolean> {
    return (await this.db.query(this.sql.cancel, [id, account])).length === 1;
  }

  async retry(id: string, account: AccountFilter): Promise<boolean> {
    try {
      const rows = await this.db.query(this.sql.retry, [id, notifyChannel(this.schema), account]);
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

  async listFailed(query: FailedJobsQuery): Promise<JobRecord[]> {
    const rows = await this.db.query<JobRow & { db_now: Date }>(this.sql.listFailed, [
      query.after ?? null,
      query.name ?? null,
      query.queue ?? null,
      query.account,
      query.limit,
    ]);
    return rows.map((row) => toJobRecord(row, row.db_now));
  }

  async discard(id: string, account: AccountFilter): Promise<boolean> {
    return (await this.db.query(this.sql.discard, [id, account])).length === 1;
  }

  purge(
    states: readonly FinishedJobState[],
    olderThanMs: number,
    account: AccountFilter,
  ): Promise<number> {
    const query = (t: string, v: unknown[]) => this.db.query(t, v);
    return purgeFinished(query, this.schema, states, olderThanMs, account);
  }

  async onceForTick(
    key: string,
    fireTime: () => Date,
    enqueue: (manager: EntityManager) => Promise<string[]>,
    manager?: EntityManager,
  ): Promise<TickResult> {
    this.db.checkManager(manager, key);
    return this.ticks.once(key, fireTime(), enqueue, manager);
  }
}

/** The database's refusal of an enqueue, with whether a retry can help. */
function enqueueFailed(jobName: string, error: unknown): EnqueueFailedError {
  return new EnqueueFailedError(jobName, toError(error), {
    retryable: isTransientDatabaseError(error),
  });
}
