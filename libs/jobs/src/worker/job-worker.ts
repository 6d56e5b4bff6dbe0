import {
  BeforeApplicationShutdown,
  Inject,
  Injectable,
  Logger,
  OnApplicationBootstrap,
} from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { JobRegistry } from '../discovery/job.registry';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import type { JobAttempt } from '../persistence/job-attempt';
import { JobLifecycle } from '../observability/job-lifecycle';
import { JobsDatabase } from '../persistence/jobs-database';
import { cancelChannel, notifyChannel, pauseChannel } from '../persistence/notify-channel';
import { PausedRepository } from '../persistence/paused.repository';
import { WorkerRepository } from '../persistence/worker.repository';
import type { ClaimConnection } from '../persistence/worker-store';
import { CompletionBatcher } from './completion-batcher';
import { DatabaseBackoff } from './database-backoff';
import { toSafeError } from './error-record';
import { FetchLoop } from './fetch-loop';
import { JobExecutor } from './job-executor';
import { JobRunner } from './job-runner';
import { LeaseKeeper } from './lease-keeper';
import { LocalBuffer } from './local-buffer';
import { Maintenance } from './maintenance';
import { NotifyListener } from './notify-listener';
import { PausedLanes } from './paused-lanes';
import { PrefetchPolicy } from './prefetch';
import { SHUTDOWN_MARGIN_MS, ShutdownDeadline } from './shutdown-deadline';

/** The parts of one run of the worker (`start` to `stop`). */
interface Parts {
  loop: FetchLoop;
  buffer: LocalBuffer;
  executor: JobExecutor;
  batcher: CompletionBatcher;
  leases: LeaseKeeper;
  maintenance: Maintenance | undefined;
  listener: NotifyListener;
}

/**
 * The worker of this process: its lifecycle, wiring a few parts that each do one thing. The fetch loop
 * claims jobs in batches into a local buffer, which starts up to `concurrency` of them through the
 * executor; the runner turns each attempt into a transition that the executor records (completions in
 * batches, through the completion batcher); the lease keeper extends the leases of every job held,
 * rescues those of dead workers and keeps the worker row; maintenance sweeps finished jobs past retention.
 * LISTEN/NOTIFY wakes the fetch loop early (polling is the safety net) and delivers cancellations.
 * Starts on application bootstrap; drains on shutdown while the DataSource is still open.
 */
@Injectable()
export class JobWorker implements OnApplicationBootstrap, BeforeApplicationShutdown {
  /** This worker's id, recorded in `locked_by` of the jobs it holds and in the workers table. */
  readonly id = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly logger = new Logger('JobWorker');
  private running = false;
  private parts: Parts | undefined;

  constructor(
    private readonly store: WorkerRepository,
    private readonly runner: JobRunner,
    private readonly registry: JobRegistry,
    private readonly db: JobsDatabase,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
    private readonly pauses: PausedRepository,
    private readonly lifecycle: JobLifecycle,
  ) {}

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

  /** True while its LISTEN connection is up (false while it reconnects: it polls meanwhile). */
  get listening(): boolean {
    return this.parts?.listener.connected ?? false;
  }

  /** Starts claiming. Called on bootstrap unless `worker.enabled` is false. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.lifecycle.progress.workerId = this.id;
    const parts = (this.parts = this.build());
    try {
      await parts.leases.start();
    } catch (error) {
      this.running = false;
      this.parts = undefined;
      throw error;
    }
    // Without a LISTEN connection (`listen: false`, or a transaction pooler and no `listen`) it polls.
    if (this.db.listens) await parts.listener.start();
    parts.maintenance?.start();
    parts.loop.start();
    const w = this.options.worker;
    this.logger.log(
      `Worker ${this.id} started: concurrency ${w.concurrency}, queues ${w.queues.join(', ')}, ` +
        `${this.registry.all().length} job types`,
    );
  }

  /**
   * Stops claiming, gives back buffered jobs, lets running jobs finish for up to `shutdownTimeoutMs`, then
   * aborts the rest through their signals and returns them to the queue. Leaves nothing `running`, unless
   * the database does not answer: every wait on it (the claim in flight, returning jobs, the last
   * completions, the lease keeper, LISTEN) ends by `shutdownTimeoutMs + SHUTDOWN_MARGIN_MS` after the
   * call, and what could not be written then is logged and left to lease rescue.
   */
  async stop(): Promise<void> {
    const parts = this.parts;
    if (!this.running || !parts) return;
    this.running = false;
    const grace = this.options.worker.shutdownTimeoutMs;
    const deadline = new ShutdownDeadline(grace + SHUTDOWN_MARGIN_MS);
    parts.buffer.close();
    // Nothing starts any more, so the buffer is final: it is given back while the claim in flight (if any)
    // returns and running jobs finish, so that a claim blocked on a lock holds up neither.
    const buffered = parts.buffer.takeAll();
    const left: string[] = [];
    const stopping = Promise.all([
      parts.loop.stop(),
      parts.listener.stop(),
      parts.maintenance?.stop(),
      this.release(buffered).then((ok) => ok || left.push(...buffered.map((j) => j.id))),
    ]);
    const aborted = await parts.executor.drain(grace);
    const releasing = this.release(aborted).then(
      (ok) => ok || left.push(...aborted.map((j) => j.id)),
    );
    await deadline.wait(Promise.all([stopping, releasing, parts.batcher.close()]), 'the release');
    // Leases are kept until the last completions are written (or given up).
    await deadline.wait(parts.leases.stop(), 'the lease keeper');
    this.parts = undefined;
    const unwritten = [...left, ...parts.batcher.ids()];
    if (deadline.missed.length > 0 || unwritten.length > 0) {
      this.logger.warn(
        `Worker ${this.id} stopped without the database confirming ${deadline.missed.join(' and ') || 'every write'}` +
          ` within ${grace + SHUTDOWN_MARGIN_MS} ms; ${unwritten.length} job(s) left to lease rescue` +
          (unwritten.length > 0 ? `: #${unwritten.slice(0, 20).join(', #')}` : ''),
      );
    } else {
      this.logger.log(`Worker ${this.id} stopped`);
    }
  }

  private build(): Parts {
    const { worker: w, retention, schema } = this.options;
    const backoff = new DatabaseBackoff(w.pollIntervalMs, this.logger);
    const prefetch = new PrefetchPolicy(w.concurrency, w.prefetch);
    const batcher = new CompletionBatcher(this.store, this.id, backoff, this.logger, {
      written: () => loop.wake(), // their room is free now: the fetch loop may be waiting for it
      running: () => this.running,
      lifecycle: this.lifecycle,
    });
    const executor = new JobExecutor(
      this.runner,
      this.store,
      batcher,
      this.id,
      this.logger,
      (done) => {
        if (done) prefetch.finished();
        buffer.dispatch();
        loop.wake();
      },
      this.lifecycle,
    );
    const buffer = new LocalBuffer({
      concurrency: w.concurrency,
      active: () => executor.size,
      start: (job) => executor.start(job),
    });
    // Jobs claimed but not started go back when their queue or account is paused; running ones finish.
    const paused = new PausedLanes(
      () => this.pauses.pausedLists(),
      w.pollIntervalMs,
      () => void this.release(buffer.takeWhere((job) => paused.holds(job))),
    );
    // Limits anywhere (the flow option, or a @Job of this process): the limited claims, else the plain ones.
    const limited =
      this.options.flow.any || this.registry.all().some((d) => !!d.concurrency || !!d.rate);
    const loop = new FetchLoop(
      { workerId: this.id, ...w, limited },
      {
        store: this.store,
        buffer,
        executor,
        batcher,
        prefetch,
        backoff,
        release: async (jobs) => void (await this.release(jobs)),
        paused,
        notifiedConnection: (): ClaimConnection | undefined => listener.connection,
        // Only after leases may have run out (see LeaseKeeper.mayHaveLostLeases): free otherwise.
        claimed: (jobs) => {
          if (!leases.mayHaveLostLeases()) return;
          for (const job of jobs) {
            if (executor.cancel(job.id))
              this.logger.warn(
                `Job ${job.name} #${job.id} was rescued while running here and claimed again: the old run is aborted`,
              );
            buffer.remove(job.id);
            batcher.drop(job.id);
          }
        },
      },
    );
    const leases = new LeaseKeeper(
      this.store,
      {
        worker: {
          id: this.id,
          hostname: hostname(),
          pid: process.pid,
          queues: w.queues,
          concurrency: w.concurrency,
        },
        ...w,
        heldIds: () => [...buffer.ids(), ...executor.ids(), ...batcher.ids()],
        rescued: (count) => {
          loop.wake();
          if (this.lifecycle.enabled) this.lifecycle.rescued(count, this.id);
        },
        marks: executor.marks,
      },
      this.logger,
    );
    const cancelled = (id: string | undefined) => {
      // After a reconnect (`undefined`) cancellations sent while disconnected are not replayed: such a job,
      // if held here, runs on and its outcome is fenced out (the row stays `cancelled`).
      if (id === undefined || executor.cancel(id)) return;
      if (buffer.remove(id)) loop.wake();
      else loop.cancelled(id);
    };
    const listener = new NotifyListener(
      this.db,
      {
        [notifyChannel(schema)]: (payload) => loop.wake(payload !== undefined),
        [cancelChannel(schema)]: cancelled,
        [pauseChannel(schema)]: () => {
          paused.invalidate();
          loop.wake();
        },
      },
      this.logger,
    );
    const maintenance = retention ? new Maintenance(this.store, retention, this.logger) : undefined;
    return { loop, buffer, executor, batcher, leases, maintenance, listener };
  }

  /** Gives jobs back to the queue; resolves `false` (never rejects) when the database refused. */
  private async release(jobs: readonly JobAttempt[]): Promise<boolean> {
    if (jobs.length === 0) return true;
    try {
      await this.store.release(jobs, this.id);
      return true;
    } catch (error) {
      this.logger.error(
        `Could not return ${jobs.length} job(s) to the queue (${toSafeError(error).message}); their leases will expire and they will be rescued`,
      );
      return false;
    }
  }
}
