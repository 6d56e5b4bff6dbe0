import type { JobClass } from '../interfaces/enqueue-options.interface';
import type { CapturedJobFilter } from './captured-job';
import { enqueuedFailureMessage, notEnqueuedFailureMessage } from './job-matching';
import { JobsTestHelper } from './jobs-test.helper';

/**
 * The part of jest's matcher context these matchers use. Declared here, structurally, so the library does
 * not depend on jest (or its types) at runtime.
 */
interface MatcherContext {
  isNot?: boolean;
  utils?: {
    matcherHint(name: string, received?: string, expected?: string, options?: object): string;
  };
}

/** What a jest matcher returns. */
interface MatcherResult {
  pass: boolean;
  message(): string;
}

/**
 * Custom jest matchers over `JobsTestHelper`. Register once, e.g. in a `setupFilesAfterEnv` file or at the
 * top of a spec: `expect.extend(jobsMatchers)`, and import this module for its types.
 *
 * @example
 * expect(jobsHelper).toHaveEnqueued(ConfirmOrderJob, { payload: { orderId }, accountId });
 * expect(jobsHelper).not.toHaveEnqueued(DeleteOrderJob);
 */
export const jobsMatchers = {
  /**
   * Passes when a job of this class matching `filter` was captured. Either way round, the failure message
   * lists every captured job.
   */
  toHaveEnqueued(
    this: MatcherContext,
    received: unknown,
    job: JobClass,
    filter: Omit<CapturedJobFilter, 'job'> = {},
  ): MatcherResult {
    if (!(received instanceof JobsTestHelper)) {
      throw new TypeError(
        `toHaveEnqueued expects the JobsTestHelper (moduleRef.get(JobsTestHelper)), got ${String(received)}.`,
      );
    }
    const matches = received.enqueued({ ...filter, job });
    const all = received.enqueued();
    const hint =
      this.utils?.matcherHint('toHaveEnqueued', 'jobsHelper', job.name, { isNot: this.isNot }) ??
      '';
    const pass = matches.length > 0;
    return {
      pass,
      message: () =>
        (hint ? `${hint}\n\n` : '') +
        (pass
          ? notEnqueuedFailureMessage(job, filter, matches, all)
          : enqueuedFailureMessage(job, filter, all)),
    };
  },
};

declare global {
  // Augments the global `expect` of @types/jest; harmless where it is not installed.
  // eslint-disable-next-line @typescript-eslint/no-namespace
  namespace jest {
    // The type parameters must repeat @types/jest's own declaration for the interfaces to merge.
    // eslint-disable-next-line @typescript-eslint/no-empty-object-type, @typescript-eslint/no-unused-vars
    interface Matchers<R, T = {}> {
      /** The helper captured a job of this class matching `filter` (see `JobsTestHelper.enqueued`). */
      toHaveEnqueued<P>(job: JobClass<P>, filter?: Omit<CapturedJobFilter<P>, 'job'>): R;
    }
  }
}
