import { Injectable } from '@nestjs/common';
import { JobsError } from '../errors';
import type { JobClass } from '../interfaces';
import type { CapturedJob, CapturedJobFilter } from './captured-job';
import { CapturedJobRunner } from './captured-job-runner';
import { InMemoryJob, snapshot } from './in-memory-job';
import { InMemoryJobStore } from './in-memory-job.store';
import { enqueuedFailureMessage, matchesFilter, notEnqueuedFailureMessage } from './job-matching';

/** Options of `performEnqueued()`. */
export interface PerformEnqueuedOptions {
  /** Perform only jobs of these classes (the others stay captured, `available`). */
  only?: JobClass | JobClass[];
  /** Perform every job but those of these classes. */
  except?: JobClass | JobClass[];
  /**
   * Upper bound on jobs performed by one call, to stop a job that keeps enqueueing jobs: reaching it
   * throws. Default `100`.
   */
  maxJobs?: number;
}

/** What `performEnqueued()` did. */
export interface PerformEnqueuedSummary {
  /** Every job performed, in order, as it ended (`completed`, `failed`, or `available` if it snoozed). */
  performed: CapturedJob[];
  /** The jobs that threw, with their error (`performed` has them too). */
  failed: Array<{ job: CapturedJob; error: Error }>;
}

/**
 * Inspects and performs the jobs `JobsTestingModule` captured. Get it from the testing module:
 * `moduleRef.get(JobsTestHelper)`.
 *
 * @example
 * await orders.place(dto);
 * jobsHelper.expectEnqueued(ConfirmOrderJob, { payload: { orderId }, accountId });
 * await jobsHelper.performEnqueued();
 */
@Injectable()
export class JobsTestHelper {
  constructor(
    private readonly store: InMemoryJobStore,
    private readonly performer: CapturedJobRunner,
  ) {}

  /** The captured jobs that match `filter` (all of them without one), oldest first, as they are now. */
  enqueued<P = unknown>(filter: CapturedJobFilter<P> = {}): Array<CapturedJob<P>> {
    return this.store
      .all()
      .map((entry) => snapshot<P>(entry))
      .filter((job) => matchesFilter(job as CapturedJob, filter as CapturedJobFilter));
  }

  /**
   * Asserts that at least one job of this class matching `filter` was enqueued, and returns the matches.
   * On failure the error lists every captured job, so you see what was enqueued instead.
   */
  expectEnqueued<P>(
    job: JobClass<P>,
    filter: Omit<CapturedJobFilter<P>, 'job'> = {},
  ): Array<CapturedJob<P>> {
    const matches = this.enqueued<P>({ ...filter, job });
    if (matches.length === 0) {
      throw new Error(
        enqueuedFailureMessage(job, filter as Omit<CapturedJobFilter, 'job'>, this.enqueued()),
      );
    }
    return matches;
  }

  /** Asserts that no job of this class matching `filter` was enqueued; the error lists every captured job. */
  expectNotEnqueued<P>(job: JobClass<P>, filter: Omit<CapturedJobFilter<P>, 'job'> = {}): void {
    const matches = this.enqueued<P>({ ...filter, job });
    if (matches.length > 0) {
      throw new Error(
        notEnqueuedFailureMessage(
          job,
          filter as Omit<CapturedJobFilter, 'job'>,
          matches as CapturedJob[],
          this.enqueued(),
        ),
      );
    }
  }

  /**
   * Performs the captured `available` jobs one by one in enqueue order (FIFO), including the jobs they
   * enqueue, each in its captured account through the app's `JobRunner`, and marks them `completed` or
   * `failed` (no retries). Run time is ignored: delayed and scheduled jobs run now, and priority does not
   * reorder them. A job that snoozes goes back to `available` and is not performed again by this call.
   *
   * A job that throws does not stop the others and is not rethrown: check `failed` in the summary.
   * Throws a `JobsError` before performing more than `maxJobs` jobs (a job that keeps enqueueing jobs).
   */
  async performEnqueued(options: PerformEnqueuedOptions = {}): Promise<PerformEnqueuedSummary> {
    const maxJobs = options.maxJobs ?? 100;
    const only = toList(options.only);
    const except = toList(options.except);
    const selected = (entry: InMemoryJob) =>
      entry.row.state === 'available' &&
      (only.length === 0 || only.includes(entry.job)) &&
      !except.includes(entry.job);
    const summary: PerformEnqueuedSummary = { performed: [], failed: [] };
    const done = new Set<InMemoryJob>();
    for (;;) {
      // Re-read the store every time: the job just performed may have enqueued more.
      const next = this.store.all().find((entry) => selected(entry) && !done.has(entry));
      if (!next) return summary;
      if (done.size >= maxJobs) {
        throw new JobsError(
          `performEnqueued: performed ${maxJobs} jobs and more are still enqueued (next: #${next.row.id} ` +
            `${next.row.name}); a job may be enqueueing jobs endlessly. Pass a higher maxJobs if this is expected.`,
        );
      }
      done.add(next);
      const outcome = await this.performer.perform(next);
      const job = snapshot(next);
      summary.performed.push(job);
      // A job cancelled while it ran may fail on its aborted signal; that is not a failure to report.
      if (outcome.kind === 'failed' && job.state === 'failed')
        summary.failed.push({ job, error: outcome.error });
    }
  }

  /** Forgets every captured job (e.g. in `beforeEach`). New ids keep increasing. */
  clear(): void {
    this.store.clear();
  }
}

function toList(value: JobClass | JobClass[] | undefined): JobClass[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}
