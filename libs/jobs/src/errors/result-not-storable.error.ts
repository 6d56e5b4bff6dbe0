import { JobsError } from './jobs.error';

/**
 * Recorded as the error of a job that ran to completion but whose result PostgreSQL refused to store (even
 * after NUL and lone surrogates were replaced: e.g. a value past `jsonb`'s size limits). The job ends
 * `failed` so the loss is visible; its work was done, so retry it only if it is safe to run again.
 */
export class ResultNotStorableError extends JobsError {
  constructor(
    readonly jobName: string,
    readonly jobId: string,
    reason: string,
  ) {
    super(
      `Job "${jobName}" #${jobId} ran to completion, but its result could not be stored (${reason}). ` +
        'Return a smaller or plainer value; the job is marked failed because its result is lost, not ' +
        'because its work failed.',
    );
  }
}
