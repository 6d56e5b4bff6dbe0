import { JobsError } from './jobs.error';

/**
 * The database refused or could not take an enqueue (connection lost, server restarting, a constraint).
 * Nothing was enqueued: the caller must retry or fail its own operation; a job is never dropped silently.
 */
export class EnqueueFailedError extends JobsError {
  constructor(
    readonly jobName: string,
    cause: Error,
  ) {
    super(`Could not enqueue job "${jobName}": ${cause.message}. Nothing was enqueued.`, { cause });
  }
}
