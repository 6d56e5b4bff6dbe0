import { JobsError } from './jobs.error';

/**
 * `ctx.snooze(delayMs)` was called with a delay that is not a finite number of milliseconds up to 100
 * years (NaN, Infinity, 1e300, a string). The attempt fails with this error instead of snoozing, and is
 * retried per the job's policy like any other failure. (A negative delay is not an error: it means now.)
 */
export class InvalidSnoozeError extends JobsError {
  constructor(
    readonly jobName: string,
    readonly delayMs: unknown,
  ) {
    super(
      `Job "${jobName}" called ctx.snooze(${typeof delayMs === 'number' ? String(delayMs) : typeof delayMs}): ` +
        'the delay must be a finite number of milliseconds, at most 100 years. The attempt failed ' +
        'instead; fix the delay the job computes.',
    );
  }
}
