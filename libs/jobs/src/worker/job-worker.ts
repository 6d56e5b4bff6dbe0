import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { QueryResultRow } from 'pg';
import { performance } from 'node:perf_hooks';
import { hostname } from 'node:os';
import { JobRegistry } from '../discovery/job.registry';
import { JobCancelledError, toError, WorkerShutdownError } from '../errors';
import type { JobErrorRecord } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { JobsDatabase } from '../persistence/jobs-database';
import { claimSql } from '../persistence/sql/claim.sql';
import { completeSql, failSql, releaseSql, snoozeSql } from '../persistence/sql/finish.sql';
import { purgeFinished } from '../persistence/sql/operations.sql';
import { purgeTicksSql } from '../persistence/sql/recurring.sql';
import {
  deleteWorkerSql,
  heartbeatSql,
  rescueSql,
  upsertWorkerSql,
} from '../persistence/sql/lease.sql';
import { cancelChannel, notifyChannel } from '../persistence/notify-channel';
import { backoffDelay } from './backoff';
import { AttemptOutcome, JobAttempt, JobRunner } from './job-runner';
import { NotifyListener } from './notify-listener';

interface ActiveJob {
  job: JobAttempt;
  controller: AbortController;
  /** Set when shutdown gave the job back: its late outcome is ignored. */
  abandoned: boolean;
  done: Promise<void>;
}

interface Completion {
  id: string;
  attempt: number;
  /** What `perform` returned, as JSON text; `null` when it returned nothing. */
  result: string | null;
}

const STACK_LIMIT = 4_000;
const MAX_ADAPTIVE_PREFETCH = 1_000;
/** Jobs started in one turn of the event loop at most (see `dispatch`). */
const STARTS_PER_TURN = 100;
/** The worker's statements (see `query`). */
type Statement =
  | 'claim'
  | 'complete'
  | 'fail'
  | 'snooze'
  | 'release'
  | 'heartbeat'
  | 'rescue'
  | 'upsertWorker'
  | 'deleteWorker'
  | 'purgeTicks';

/** Recurring tick records are kept 30 days: long enough for any schedule's missed-tick check. */
const TICK_RETENTION_MS = 30 * 86_400_000;

/** `error.name`, or the class name of an Error subclass that did not set `name` (most user errors). */
function errorName(error: Error): string {
  const className = error.constructor?.name;
  return error.name === 'Error' && className && className !== 'Object' ? className : error.name;
}

/**
 * The worker of this process. It claims runnable jobs in batches into a small local buffer, performs up to
 * `concurrency` at once, records outcomes (completions batched into one statement), keeps its leases alive
 * with heartbeats, rescues jobs whose worker died, and wakes early on LISTEN/NOTIFY with polling as the
 * safety net. Starts on application bootstrap; drains on shutdown while the DataSource is still open.
 */
@Injectable()
export class JobWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** This worker's id, recorded in `locked_by` of the jobs it holds and in the workers table. */
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger('JobWorker');
  private readonly sql: Record<Statement, string>;
  private readonly allQueues: boolean;
  private readonly listener: NotifyListener;

  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private readonly buffer: JobAttempt[] = [];
  private startsThisTurn = 0;
  private readonly active = new Map<string, ActiveJob>();
  private completions: Completion[] = [];
  private flushing: Promise<void> | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private rescueTimer: NodeJS.Timeout | undefined;
  private retentionTimer: NodeJS.Timeout | undefined;
  private dbFailures = 0;
  /** Jobs finished per second (smoothed), for adaptive prefetch. */
  private finishRate = 0;
  private finishedInWindow = 0;
  private rateWindowStart = performance.now();
  /** Prefetch level raised when the worker starves (see `prefetch`). */
  private starvedLevel: number;

  constructor(
    private readonly db: JobsDatabase,
    private readonly runner: JobRunner,
    private readonly registry: JobRegistry,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {
    const schema = options.schema;
    this.starvedLevel = options.worker.concurrency;
    this.allQueues = options.worker.queues.includes('*');
    this.sql = {
      claim: claimSql(schema, !this.allQueues),
      complete: completeSql(schema),
      fail: failSql(schema),
      snooze: snoozeSql(schema),
      release: releaseSql(schema),
      heartbeat: heartbeatSql(schema),
      rescue: rescueSql(schema),
      upsertWorker: upsertWorkerSql(schema),
      deleteWorker: deleteWorkerSql(schema),
      purgeTicks: purgeTicksSql(schema),
    };
    this.listener = new NotifyListener(
      db,
      {
        [notifyChannel(schema)]: () => this.wake(),
        [cancelChannel(schema)]: (id) => (id ? this.abortCancelled(id) : undefined),
      },
      this.logger,
    );
  }

  async onApplicationBootstrap(): Promise<void> {
    if (this.options.worker.enabled) await this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** True while the worker claims jobs. */
  get isRunning(): boolean {
    return this.running;
  }

  /** Starts claiming. Called on bootstrap unless `worker.enabled` is false. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    const w = this.options.worker;
    await this.registerWorker();
    await this.listener.start();
    this.heartbeatTimer = setInterval(() => void this.heartbeat(), w.heartbeatIntervalMs);
    this.rescueTimer = setInterval(() => void this.rescue(), w.rescueIntervalMs);
    void this.rescue();
    const retention = this.options.retention;
    if (retention)
      this.retentionTimer = setInterval(() => void this.sweep(retention), retention.intervalMs);
    this.loop = this.fetchLoop();
    this.logger.log(
      `Worker ${this.id} started: concurrency ${w.concurrency}, queues ${w.queues.join(', ')}, ` +
        `${this.registry.all().length} job types`,
    );
  }

  /**
   * Stops claiming, gives back buffered jobs, lets running jobs finish for up to `shutdownTimeoutMs`, then
   * aborts the rest through their signals and returns them to the queue. Leaves nothing `running`.
   */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    this.wake();
    await this.loop;
    clearInterval(this.heartbeatTimer);
    clearInterval(this.rescueTimer);
    clearInterval(this.retentionTimer);
    await this.listener.stop();
    await this.release(this.buffer.splice(0));
    await this.drainActive();
    await this.flushCompletions();
    await this.unregisterWorker();
    this.logger.log(`Worker ${this.id} stopped`);
  }

  private async drainActive(): Promise<void> {
    if (this.active.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>(
      (resolve) => (timer = setTimeout(resolve, this.options.worker.shutdownTimeoutMs)),
    );
    await Promise.race([Promise.all([...this.active.values()].map((a) => a.done)), grace]);
    clearTimeout(timer);
    const left = [...this.active.values()];
    if (left.length === 0) return;
    this.logger.warn(
      `Aborting ${left.length} job(s) still running after ${this.options.worker.shutdownTimeoutMs} ms`,
    );
    for (const a of left) {
      a.abandoned = true;
      a.controller.abort(new WorkerShutdownError());
      this.active.delete(a.job.id);
    }
    await this.release(left.map((a) => a.job));
  }

  private wake(): void {
    const wakeUp = this.wakeUp;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /**
   * Claims while there is room. Room is `concurrency` plus a prefetch buffer; a claim asks for all the
   * free room, but only once at least half of it is free (or the buffer ran dry), so a busy worker claims
   * in batches rather than one row per finished job. An empty claim means no due job: sleep until a
   * NOTIFY, a freed slot, or the poll interval.
   */
  private async fetchLoop(): Promise<void> {
    const { concurrency, pollIntervalMs } = this.options.worker;
    while (this.running) {
      const room = concurrency + this.prefetch();
      // Finished jobs waiting for their completion batch are not work: they do not take room. But if
      // completions fall behind (a slow database) by more than a room's worth, claiming waits for them.
      const backlog = Math.max(0, this.completions.length - room);
      const free = room - this.active.size - this.buffer.length - backlog;
      const worthClaiming = free >= Math.ceil(room / 2) || (free > 0 && this.buffer.length === 0);
      if (!worthClaiming) {
        await this.sleep(pollIntervalMs);
        continue;
      }
      let claimed: JobAttempt[];
      try {
        claimed = await this.claim(free);
        this.dbFailures = 0;
        // Starved: while the claim was out, the buffer ran dry and slots went idle.
        const starved = this.buffer.length === 0 && this.active.size < concurrency;
        this.adapt(starved, claimed.length === free);
      } catch (error) {
        await this.sleep(this.databaseBackoff('claim', error));
        continue;
      }
      if (!this.running) {
        await this.release(claimed);
        break;
      }
      this.buffer.push(...claimed);
      this.dispatch();
      if (claimed.length < free) await this.sleep(pollIntervalMs);
    }
  }

  /**
   * The prefetch buffer: the configured `worker.prefetch`, or else adaptive (between `concurrency` and
   * 1,000). Adaptive prefetch is the larger of two signals: about 100 ms of work at the rate jobs are
   * finishing, and a level that doubles whenever the buffer ran dry and slots went idle during a claim that
   * got all it asked for (the worker was starved: jobs finish faster than it claims) and halves when the
   * queue runs dry. Fast jobs are thus claimed in large batches within a few claims (few round-trips and
   * commits per job), while slow jobs, which never drain the buffer, are not hoarded by one worker when
   * others could start them.
   */
  private prefetch(): number {
    const fixed = this.options.worker.prefetch;
    if (fixed !== undefined) return fixed;
    const now = performance.now();
    const elapsed = now - this.rateWindowStart;
    if (elapsed >= 100) {
      const instant = (this.finishedInWindow * 1_000) / elapsed;
      this.finishRate = this.finishRate === 0 ? instant : 0.5 * this.finishRate + 0.5 * instant;
      this.finishedInWindow = 0;
      this.rateWindowStart = now;
    }
    const { concurrency } = this.options.worker;
    const byRate = Math.ceil(this.finishRate / 10);
    return Math.min(MAX_ADAPTIVE_PREFETCH, Math.max(concurrency, byRate, this.starvedLevel));
  }

  /** Updates the starvation level after a claim (see `prefetch`). */
  private adapt(starved: boolean, claimedAllAskedFor: boolean): void {
    const { concurrency } = this.options.worker;
    if (!claimedAllAskedFor)
      this.starvedLevel = Math.max(concurrency, Math.floor(this.starvedLevel / 2));
    else if (starved) this.starvedLevel = Math.min(MAX_ADAPTIVE_PREFETCH, this.starvedLevel * 2);
  }

  /**
   * Runs one of the worker's statements on the worker's own pool (see JobsDatabase), as a named prepared
   * statement: parsed once per connection, and planned generically (by ids, whatever the batch size).
   */
  private query<T extends QueryResultRow>(statement: Statement, values: unknown[]): Promise<T[]> {
    return this.db.query<T>(this.sql[statement], values, {
      name: `${this.options.schema}.${statement}`,
      worker: true,
    });
  }

  private databaseBackoff(what: string, error: unknown): number {
    this.dbFailures++;
    const delay = Math.min(
      this.options.worker.pollIntervalMs * 10,
      100 * 2 ** Math.min(this.dbFailures, 8),
    );
    this.logger.error(
      `Could not ${what} jobs (${toError(error).message}); retrying in ${delay} ms`,
    );
    return delay;
  }

  private claim(limit: number): Promise<JobAttempt[]> {
    const w = this.options.worker;
    const values: unknown[] = [limit, this.id, w.leaseMs];
    if (!this.allQueues) values.push(w.queues);
    // The statement names its columns after JobAttempt's fields: rows are used as they arrive.
    return this.query<JobAttempt & QueryResultRow>('claim', values);
  }

  /**
   * Starts buffered jobs while slots are free. Jobs that finish without real I/O finish in microtasks, and
   * each finish starts the next, so a buffer of them would run to the end in one turn of the event loop:
   * nothing else (the next claim, completion flushes, notifications, the app's own requests) could go out
   * until it ends. After `STARTS_PER_TURN` starts in one turn the rest waits for the next turn
   * (`setImmediate`), so the worker's own round-trips overlap with the jobs it runs.
   */
  private dispatch(): void {
    while (
      this.running &&
      this.active.size < this.options.worker.concurrency &&
      this.buffer.length > 0
    ) {
      if (this.startsThisTurn === 0) setImmediate(this.nextTurn);
      else if (this.startsThisTurn >= STARTS_PER_TURN) return; // nextTurn dispatches the rest
      this.startsThisTurn++;
      this.perform(this.buffer.shift() as JobAttempt);
    }
  }

  private readonly nextTurn = (): void => {
    this.startsThisTurn = 0;
    this.dispatch();
  };

  private perform(job: JobAttempt): void {
    const controller = new AbortController();
    const entry: ActiveJob = { job, controller, abandoned: false, done: Promise.resolve() };
    this.active.set(job.id, entry);
    const finished = () => {
      if (this.active.get(job.id) === entry) this.active.delete(job.id);
      this.finishedInWindow++;
      this.dispatch();
      this.wake();
    };
    entry.done = this.runner
      .run(job, controller.signal)
      .then((outcome) => (entry.abandoned ? undefined : this.settle(job, outcome)))
      .then(finished, (error: unknown) => {
        this.logger.error(
          `Recording the outcome of job ${job.id} failed: ${toError(error).message}`,
        );
        finished();
      });
  }

  /** A running job of ours was cancelled (the row already says so): abort it and forget its outcome. */
  private abortCancelled(id: string): void {
    const entry = this.active.get(id);
    if (!entry) return;
    entry.abandoned = true;
    entry.controller.abort(new JobCancelledError(id));
    this.active.delete(id);
    this.dispatch();
    this.wake();
  }

  /** Records an outcome: a completion joins the next batch (no promise), anything else is written now. */
  private settle(job: JobAttempt, outcome: AttemptOutcome): Promise<void> | undefined {
    if (outcome.kind === 'completed') {
      const result = outcome.result === undefined ? null : this.resultJson(job, outcome.result);
      this.completions.push({ id: job.id, attempt: job.attempt, result });
      this.scheduleFlush();
      return undefined;
    }
    if (outcome.kind === 'snoozed') {
      return this.query('snooze', [job.id, this.id, job.attempt, outcome.delayMs]).then(
        () => undefined,
      );
    }
    return this.recordFailure(job, outcome);
  }

  /** A job's return value as JSON; one that JSON cannot hold is dropped with a warning (the job still completes). */
  private resultJson(job: JobAttempt, result: unknown): string | null {
    try {
      return JSON.stringify(result) ?? null;
    } catch (error) {
      this.logger.warn(
        `Job ${job.name} #${job.id} completed, but its return value is not JSON (${toError(error).message}); no result stored`,
      );
      return null;
    }
  }

  private async recordFailure(
    job: JobAttempt,
    outcome: Extract<AttemptOutcome, { kind: 'failed' }>,
  ): Promise<void> {
    const { error } = outcome;
    const retry = outcome.retryable && job.attempt < job.maxAttempts;
    const delay =
      retry && outcome.definition
        ? backoffDelay(outcome.definition.backoff, job.attempt, error)
        : null;
    const record: JobErrorRecord = {
      attempt: job.attempt,
      at: new Date().toISOString(),
      name: errorName(error),
      message: error.message,
      stack: error.stack?.slice(0, STACK_LIMIT),
    };
    const level = retry ? 'warn' : 'error';
    this.logger[level](
      `Job ${job.name} #${job.id} attempt ${job.attempt}/${job.maxAttempts} failed: ${error.message}` +
        (retry ? `; retrying in ${delay} ms` : '; giving up'),
    );
    await this.query('fail', [job.id, this.id, job.attempt, JSON.stringify(record), delay]);
  }

  /** Completions of one tick go out in one statement; one in flight at a time, the next batch queued behind it. */
  private scheduleFlush(): void {
    if (this.flushing) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      await this.flushCompletions();
      this.flushing = undefined;
      if (this.completions.length > 0) this.scheduleFlush();
    });
  }

  private async flushCompletions(): Promise<void> {
    const batch = this.completions.splice(0);
    if (batch.length === 0) return;
    try {
      await this.query('complete', [
        batch.map((c) => c.id),
        batch.map((c) => c.attempt),
        batch.map((c) => c.result),
        this.id,
      ]);
      this.wake(); // their room is free now: the fetch loop may be waiting for it
    } catch (error) {
      // Keep them: the next flush retries. If the lease runs out first, the job is rescued and re-run
      // (at-least-once), and this worker's late completion is fenced out.
      this.completions.unshift(...batch);
      if (this.running)
        await new Promise((r) => setTimeout(r, this.databaseBackoff('complete', error)));
    }
  }

  private async release(jobs: JobAttempt[]): Promise<void> {
    if (jobs.length === 0) return;
    try {
      await this.query('release', [jobs.map((j) => j.id), jobs.map((j) => j.attempt), this.id]);
    } catch (error) {
      this.logger.error(
        `Could not return ${jobs.length} job(s) to the queue (${toError(error).message}); their leases will expire and they will be rescued`,
      );
    }
  }

  private heldIds(): string[] {
    return [
      ...this.buffer.map((j) => j.id),
      ...this.active.keys(),
      ...this.completions.map((c) => c.id),
    ];
  }

  private async heartbeat(): Promise<void> {
    try {
      await this.registerWorker();
      const ids = this.heldIds();
      if (ids.length > 0)
        await this.query('heartbeat', [ids, this.id, this.options.worker.leaseMs]);
    } catch (error) {
      this.logger.warn(`Heartbeat failed: ${toError(error).message}`);
    }
  }

  private async rescue(): Promise<void> {
    try {
      const rows = await this.query<{ id: string; state: string }>('rescue', [
        this.options.worker.leaseMs,
      ]);
      if (rows.length > 0) {
        this.logger.warn(`Rescued ${rows.length} job(s) whose worker stopped heartbeating`);
        this.wake();
      }
    } catch (error) {
      this.logger.warn(`Rescue failed: ${toError(error).message}`);
    }
  }

  /** Deletes finished jobs past their retention, state by state, in batches. */
  private async sweep(retention: Exclude<ResolvedJobsOptions['retention'], false>): Promise<void> {
    const rules = [
      ['completed', retention.completedMs],
      ['failed', retention.failedMs],
      ['cancelled', retention.cancelledMs],
    ] as const;
    try {
      for (const [state, ms] of rules) {
        await purgeFinished(
          (text, values) => this.db.query(text, values, { worker: true }),
          this.options.schema,
          [state],
          ms,
        );
      }
      await this.query('purgeTicks', [TICK_RETENTION_MS]);
    } catch (error) {
      this.logger.warn(`Retention sweep failed: ${toError(error).message}`);
    }
  }

  private async registerWorker(): Promise<void> {
    const w = this.options.worker;
    await this.query('upsertWorker', [this.id, hostname(), process.pid, w.queues, w.concurrency]);
  }

  private async unregisterWorker(): Promise<void> {
    try {
      await this.query('deleteWorker', [this.id]);
    } catch (error) {
      this.logger.warn(`Could not remove worker row: ${toError(error).message}`);
    }
  }
}
