import { JobsError } from './jobs.error';

/**
 * The database refused or could not take an enqueue. Nothing was enqueued: the caller must retry or fail
 * its own operation; a job is never dropped silently. A caller's mistake (a bad payload or option) never
 * becomes this error: it is refused before anything is sent (`InvalidPayloadError`,
 * `InvalidEnqueueOptionsError`, `InvalidAccountIdError`).
 */
export class EnqueueFailedError extends JobsError {
  /**
   * `true` only when sending the enqueue again can succeed: the connection was lost or refused, the
   * server is shutting down or restarting, or the statement lost a race or waited too long (a
   * serialization failure, a deadlock, `lockTimeoutMs` or `statementTimeoutMs` reached). `false` when the
   * same enqueue would fail the same way (a constraint, a missing table, bad credentials): fix the cause.
   */
  readonly retryable: boolean;

  constructor(
    readonly jobName: string,
    cause: Error,
    options: { retryable?: boolean } = {},
  ) {
    const retryable = options.retryable ?? false;
    super(
      `Could not enqueue job "${jobName}": ${cause.message}. Nothing was enqueued` +
        `${retryable ? '; the failure is transient, so retrying may succeed.' : '.'}`,
      { cause },
    );
    this.retryable = retryable;
  }
}
