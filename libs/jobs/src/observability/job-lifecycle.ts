import { Inject, Injectable, OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import type { JobErrorRecord } from '../interfaces';
import type { JobAttempt } from '../persistence/job-attempt';
import type { NewJob } from '../persistence/job-row';
import type { InsertedJob } from '../persistence/job-store';
import { ObservabilityRepository } from '../persistence/observability.repository';
import { type AttemptOutcome, outcomeName } from './attempt-outcome';
import { JobEventDispatcher } from './job-event.dispatcher';
import { JobLogs } from './job-logs';
import { JobMetrics } from './job-metrics';
import { libraryLogger } from './library-logger';
import { JobProgress } from './job-progress';
import { JobTracing } from './job-tracing';
import { forEachInserted } from './inserted-jobs';
import { ObservedAttempt } from './observed-attempt';
import { QueueStatsCache } from './queue-stats.cache';

/** A completion as the batcher holds it (the worker's `Completion`). */
export interface CompletionRef {
  readonly id: string;
  readonly attempt: number;
}

/**
 * The one port the queue and the worker report a job's life to: enqueued, started, how each attempt
 * ended once recorded, rescued. Events, traces, metrics and log lines all hang off it.
 *
 * Zero cost when nothing observes: callers read `enabled` (a field) before calling anything, and only
 * then is an event, a span or a timestamp made. It is computed at application bootstrap, once listeners
 * are discovered and an OpenTelemetry SDK, if any, is registered.
 */
@Injectable()
export class JobLifecycle implements OnApplicationBootstrap, OnApplicationShutdown {
  /** Anything observes jobs: read before any other call. */
  enabled = false;
  /** Spans, when an OpenTelemetry SDK is registered (and `observability.tracing` is on). */
  tracing: JobTracing | undefined;
  /** Metrics, when an OpenTelemetry SDK is registered (and `observability.metrics` is on). */
  metrics: JobMetrics | undefined;
  /** Per-queue counts, read at a bounded rate (gauges and health). */
  readonly stats: QueueStatsCache;
  /** Debug lines of each attempt, with `logLevel: 'debug'`. */
  logs: JobLogs | undefined;
  /** `ctx.progress`: always on (a job that never reports costs nothing). */
  readonly progress: JobProgress;
  /** Attempts whose completion waits for its batch, by job id. */
  private readonly awaitingBatch = new Map<string, ObservedAttempt>();

  constructor(
    readonly events: JobEventDispatcher,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
    repository: ObservabilityRepository,
  ) {
    this.stats = new QueueStatsCache(
      () => repository.queueStats(),
      options.observability.queueStatsIntervalMs,
    );
    this.progress = new JobProgress(
      repository,
      events,
      options.observability.progressIntervalMs,
      libraryLogger(options.logger, 'JobProgress'),
    );
  }

  /** After the worker drained: stops progress timers and waits for progress writes in flight. */
  onApplicationShutdown(): Promise<void> {
    return this.progress.close();
  }

  /** Decides once what observes jobs: listeners are discovered and an SDK, if any, registered by now. */
  onApplicationBootstrap(): void {
    this.tracing = JobTracing.create(this.options.observability);
    this.metrics = JobMetrics.create(this.options.observability, this.stats);
    this.logs = JobLogs.create(
      this.options.logLevel,
      libraryLogger(this.options.logger, 'JobWorker'),
    );
    this.enabled = this.events.hasListeners || !!this.tracing || !!this.metrics || !!this.logs;
  }

  /** Jobs were inserted (`inserted`: the rows written, in the order of `jobs`, dedupes left out). */
  enqueued(jobs: readonly NewJob[], inserted: readonly InsertedJob[]): void {
    const metrics = this.metrics;
    const listens = this.events.listens('enqueued');
    if (!metrics && !listens) return;
    forEachInserted(jobs, inserted, (job, id) => {
      metrics?.enqueued(job);
      if (!listens) return;
      this.events.emit({
        type: 'enqueued',
        id,
        name: job.name,
        queue: job.queue,
        accountId: job.accountId,
        attempt: 0,
        maxAttempts: job.maxAttempts,
        runAt: job.runAt,
        delayMs: job.delayMs,
      });
    });
  }

  /** An attempt starts: its observation times it and reports how it ended. */
  started(job: JobAttempt): ObservedAttempt {
    const span = this.tracing?.startProcess(job);
    const seen = new ObservedAttempt(job, this, span && this.tracing, span);
    this.metrics?.started(job);
    this.logs?.started(job);
    if (this.events.listens('started')) this.events.emit({ type: 'started', ...base(job) });
    return seen;
  }

  /** A completion joined the next batch: it is reported when `completed` says it was written. */
  awaitBatch(seen: ObservedAttempt): void {
    this.awaitingBatch.set(seen.job.id, seen);
  }

  /**
   * A completion batch was written and changed `changed` of its rows. When all were changed (the usual
   * case) each is reported; a batch some rows of which were fenced out (their lease expired) cannot tell
   * which from a count, so those attempts are reported as not recorded rather than guessed.
   */
  completed(batch: readonly CompletionRef[], changed: number): void {
    const allWritten = changed === batch.length;
    for (const c of batch) {
      const seen = this.awaitingBatch.get(c.id);
      if (!seen || seen.job.attempt !== c.attempt) continue;
      this.awaitingBatch.delete(c.id);
      if (allWritten) seen.report();
    }
  }

  /** A completion PostgreSQL refused ended the job `failed` instead (`changed`: 0 if fenced out). */
  unstorable(c: CompletionRef, error: JobErrorRecord, changed: number): void {
    const seen = this.awaitingBatch.get(c.id);
    if (!seen || seen.job.attempt !== c.attempt) return;
    this.awaitingBatch.delete(c.id);
    seen.recorded({ kind: 'fail', error }, changed);
  }

  /** The rescuer returned `count` jobs of dead workers. */
  rescued(count: number, workerId: string): void {
    if (this.events.listens('rescued')) this.events.emit({ type: 'rescued', count, workerId });
  }

  /** Reports an attempt's recorded outcome (called by its observation). */
  report(seen: ObservedAttempt, outcome: AttemptOutcome): void {
    this.metrics?.ended(seen.job, outcome, seen.durationMs);
    this.logs?.ended(seen.job, outcome, seen.durationMs);
    // The outcome's name is its event type: no event object unless someone listens to that type.
    if (this.events.listens(outcomeName(outcome))) this.events.emit(seen.event(outcome));
  }
}

/** The lifecycle of a process where nothing observes jobs (the testing module, unit specs). */
export const DISABLED_LIFECYCLE = { enabled: false } as JobLifecycle;

export function base(job: JobAttempt) {
  return {
    id: job.id,
    name: job.name,
    queue: job.queue,
    accountId: job.accountId,
    attempt: job.attempt,
    maxAttempts: job.maxAttempts,
  };
}
