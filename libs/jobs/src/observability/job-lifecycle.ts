import { Inject, Injectable, OnApplicationBootstrap } from '@nestjs/common';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import type { JobAttempt } from '../persistence/job-attempt';
import type { NewJob } from '../persistence/job-row';
import type { InsertedJob } from '../persistence/job-store';
import type { AttemptOutcome } from './attempt-outcome';
import { JobEventDispatcher } from './job-event.dispatcher';
import { JobTracing } from './job-tracing';
import { ObservedAttempt } from './observed-attempt';

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
export class JobLifecycle implements OnApplicationBootstrap {
  /** Anything observes jobs: read before any other call. */
  enabled = false;
  /** Spans, when an OpenTelemetry SDK is registered (and `observability.tracing` is on). */
  tracing: JobTracing | undefined;
  /** Attempts whose completion waits for its batch, by job id. */
  private readonly awaitingBatch = new Map<string, ObservedAttempt>();

  constructor(
    readonly events: JobEventDispatcher,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  /** Decides once what observes jobs: listeners are discovered and an SDK, if any, registered by now. */
  onApplicationBootstrap(): void {
    this.tracing = JobTracing.create(this.options.observability);
    this.enabled = this.events.hasListeners || this.tracing !== undefined;
  }

  /** Jobs were inserted (`inserted`: the rows written, in the order of `jobs`, dedupes left out). */
  enqueued(jobs: readonly NewJob[], inserted: readonly InsertedJob[]): void {
    if (!this.events.listens('enqueued')) return;
    forEachInserted(jobs, inserted, (job, id) =>
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
      }),
    );
  }

  /** An attempt starts: its observation times it and reports how it ended. */
  started(job: JobAttempt): ObservedAttempt {
    const span = this.tracing?.startProcess(job);
    const seen = new ObservedAttempt(job, this, span && this.tracing, span);
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

  /** The rescuer returned `count` jobs of dead workers. */
  rescued(count: number, workerId: string): void {
    if (this.events.listens('rescued')) this.events.emit({ type: 'rescued', count, workerId });
  }

  /** Reports an attempt's recorded outcome (called by its observation). */
  report(seen: ObservedAttempt, outcome: AttemptOutcome): void {
    const event = seen.event(outcome);
    if (this.events.listens(event.type)) this.events.emit(event);
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

/**
 * Calls `fn` for each job that was written, with its new id. `inserted` holds the written rows in job
 * order; a job whose `uniqueKey` deduplicated to an unfinished job has no row (and no call).
 */
export function forEachInserted(
  jobs: readonly NewJob[],
  inserted: readonly InsertedJob[],
  fn: (job: NewJob, id: string) => void,
): void {
  if (inserted.length === jobs.length) {
    for (let i = 0; i < jobs.length; i++) fn(jobs[i], inserted[i].id);
    return;
  }
  const byKey = new Map<string, string>();
  const plain: string[] = [];
  for (const row of inserted) {
    if (row.unique_key === null) plain.push(row.id);
    else byKey.set(row.unique_key, row.id);
  }
  let next = 0;
  for (const job of jobs) {
    if (job.uniqueKey === null) {
      if (next < plain.length) fn(job, plain[next++]);
      continue;
    }
    const id = byKey.get(job.uniqueKey);
    if (id === undefined) continue;
    byKey.delete(job.uniqueKey); // two items with one key: the first one wrote the row
    fn(job, id);
  }
}
