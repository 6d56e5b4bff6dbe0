import type { LoggerService } from '@nestjs/common';
import { JobCancelledError, WorkerShutdownError } from '../errors';
import { DISABLED_LIFECYCLE, type JobLifecycle } from '../observability/job-lifecycle';
import type { ObservedAttempt } from '../observability/observed-attempt';
import type { JobAttempt } from '../persistence/job-attempt';
import type { WorkerStore } from '../persistence/worker-store';
import type { CompletionBatcher } from './completion-batcher';
import { toErrorJson, toSafeError } from './error-record';
import type { JobTransition } from './job-transition';
import { type AttemptSignal, LazyAbort } from './lazy-abort';
import { StartMarkBook } from './start-marks';

interface ActiveJob {
  job: JobAttempt;
  /** Its `AbortSignal` is made only if the handler (or a timeout, an observer) asks for it. */
  controller: LazyAbort;
  /** Set when the job was cancelled or given back at shutdown: its late transition is not recorded. */
  abandoned: boolean;
  done: Promise<void>;
}

/** The runner as the executor uses it. */
export interface AttemptRunner {
  attempt(job: JobAttempt, signal: AttemptSignal): Promise<JobTransition>;
}

/**
 * Runs the jobs the buffer starts and records each one's transition: a completion joins the next batch
 * (no promise of its own), a failure, retry or snooze is written at once, a cancel writes nothing. Holds
 * the running jobs, so it can abort one that is cancelled and, at shutdown, those that outlive the grace
 * period.
 *
 * Each start is noted in `marks` (written lazily, see `StartMarkBook`), except for a job a rescue once
 * returned unstarted (`unstartedRescues`): its worker died while holding it, perhaps because of it, so its
 * start is written before it performs, and a crash it causes costs it an attempt. That costs a statement
 * per such job, only after a crash.
 */
export class JobExecutor {
  private readonly active = new Map<string, ActiveJob>();
  /** Transitions being written, by job id (see `start`). */
  private readonly writing = new Map<string, Promise<void>>();
  /** Starts not written yet; taken by the completion batcher and the lease keeper. */
  readonly marks = new StartMarkBook((job) => this.active.get(job.id)?.job === job);

  constructor(
    private readonly runner: AttemptRunner,
    private readonly store: WorkerStore,
    private readonly batcher: Pick<CompletionBatcher, 'add'>,
    private readonly workerId: string,
    private readonly logger: LoggerService,
    /** A slot was freed; `finished` is false when the job was aborted rather than finished. */
    private readonly slotFreed: (finished: boolean) => void,
    /** Told when attempts start and how they ended (events, traces, metrics); read `enabled` first. */
    private readonly lifecycle: JobLifecycle = DISABLED_LIFECYCLE,
  ) {}

  /** Jobs running now. */
  get size(): number {
    return this.active.size;
  }

  /** Ids of the running jobs. */
  ids(): string[] {
    return [...this.active.keys()];
  }

  /**
   * Starts one attempt. If the previous attempt of the same job is still being written here (its retry or
   * snooze: the row was runnable again, and claimed, before that write's answer was read), this one
   * starts once the write has landed, so its events (`retrying` then `started`) keep their order.
   */
  start(job: JobAttempt): void {
    const controller = new LazyAbort();
    const entry: ActiveJob = { job, controller, abandoned: false, done: Promise.resolve() };
    this.active.set(job.id, entry);
    const finished = () => {
      if (this.active.get(job.id) === entry) this.active.delete(job.id);
      this.slotFreed(true);
    };
    const prior = this.writing.size > 0 ? this.writing.get(job.id) : undefined;
    const run = prior
      ? prior.then(() => (entry.abandoned ? undefined : this.run(entry)))
      : this.run(entry);
    entry.done = run.then(finished, (error: unknown) => {
      this.logger.error(
        `Recording the outcome of job ${job.name} #${job.id} failed: ${toSafeError(error).message}`,
      );
      finished();
    });
  }

  /** Performs the attempt and records its transition (see `start`). */
  private run(entry: ActiveJob): Promise<void> {
    const { job, controller } = entry;
    const seen = this.lifecycle.enabled ? this.lifecycle.started(job) : undefined;
    return (seen ? seen.run(() => this.attempt(entry)) : this.attempt(entry)).then((transition) => {
      if (entry.abandoned || !transition) return seen?.abandoned(controller.signal);
      const writing = this.record(job, transition, seen);
      if (writing) this.noteWriting(job.id, writing);
      return writing;
    });
  }

  /** Notes a transition being written (a retry, failure or snooze) until it lands, for `start`. */
  private noteWriting(id: string, writing: Promise<void>): void {
    const landed = writing.then(
      () => undefined,
      () => undefined,
    );
    this.writing.set(id, landed);
    void landed.then(() => {
      if (this.writing.get(id) === landed) this.writing.delete(id);
    });
  }

  /** Performs one attempt (no closure per job unless it is observed), noting its start for the heartbeat. */
  private attempt(entry: ActiveJob): Promise<JobTransition | undefined> {
    const { job } = entry;
    if (job.unstartedRescues) return this.markThenAttempt(entry);
    this.marks.note(job);
    return this.runner.attempt(job, entry.controller);
  }

  /**
   * Writes the start of a job returned unstarted before, then performs it. A mark the database fences
   * out (the job was cancelled or rescued meanwhile) means it must not run; a mark that cannot be written
   * (database trouble) does not stop it: the rescue's unstarted limit still bounds it.
   */
  private async markThenAttempt(entry: ActiveJob): Promise<JobTransition | undefined> {
    const { job } = entry;
    try {
      const marked = await this.store.markStarted(
        { ids: [job.id], attempts: [job.attempt] },
        this.workerId,
      );
      if (marked === 0) return undefined;
    } catch (error) {
      this.logger.warn(
        `Could not record the start of job ${job.name} #${job.id} (${toSafeError(error).message}); performing it anyway`,
      );
    }
    if (entry.abandoned) return undefined;
    return this.runner.attempt(job, entry.controller);
  }

  /** A running job was cancelled (the row already says so): abort it and forget its outcome. */
  cancel(id: string): boolean {
    const entry = this.active.get(id);
    if (!entry) return false;
    entry.abandoned = true;
    entry.controller.abort(new JobCancelledError(id));
    this.active.delete(id);
    this.slotFreed(false);
    return true;
  }

  /**
   * Lets running jobs finish for up to `graceMs`, then aborts the rest through their signals and returns
   * them (to be given back to the queue); their late outcomes are not recorded.
   */
  async drain(graceMs: number): Promise<JobAttempt[]> {
    if (this.active.size === 0) return [];
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => (timer = setTimeout(resolve, graceMs)));
    await Promise.race([Promise.all([...this.active.values()].map((a) => a.done)), grace]);
    clearTimeout(timer);
    const left = [...this.active.values()];
    if (left.length === 0) return [];
    this.logger.warn(`Aborting ${left.length} job(s) still running after ${graceMs} ms`);
    for (const a of left) {
      a.abandoned = true;
      a.controller.abort(new WorkerShutdownError());
      this.active.delete(a.job.id);
    }
    return left.map((a) => a.job);
  }

  private record(
    job: JobAttempt,
    t: JobTransition,
    seen?: ObservedAttempt,
  ): Promise<void> | undefined {
    // A progress value still pending is written first (only for jobs that reported progress).
    const flushing = this.lifecycle.progress?.flush(job);
    if (flushing) return flushing.then(() => this.record(job, t, seen));
    switch (t.kind) {
      case 'complete':
        this.batcher.add({ id: job.id, name: job.name, attempt: job.attempt, result: t.result });
        seen?.recorded(t, undefined); // reported once its batch is written
        return undefined;
      case 'cancel':
        seen?.recorded(t, 1); // the row already says so
        return undefined;
      case 'snooze':
        return this.store.snooze(job, this.workerId, t.delayMs).then((n) => seen?.recorded(t, n));
      case 'retry':
      case 'fail': {
        const retryDelayMs = t.kind === 'retry' ? t.delayMs : null;
        const attempts = `attempt ${job.attempt}/${job.maxAttempts}`;
        const what = retryDelayMs === null ? 'giving up' : `retrying in ${retryDelayMs} ms`;
        this.logger[retryDelayMs === null ? 'error' : 'warn'](
          `Job ${job.name} #${job.id} ${attempts} failed: ${t.error.message}; ${what}`,
        );
        return this.store
          .fail({
            id: job.id,
            workerId: this.workerId,
            attempt: job.attempt,
            error: toErrorJson(t.error),
            retryDelayMs,
          })
          .then((n) => seen?.recorded(t, n));
      }
    }
  }
}
