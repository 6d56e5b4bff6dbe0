import { JobsError } from './jobs.error';

/**
 * Thrown by an operation of `JobQueueService` (`listFailed`, `purge`, …) when an argument is out of the
 * range the operation (and the PostgreSQL column behind it) accepts, before any statement is sent: a caller's
 * mistake, not database trouble, so it is never a raw `DatabaseError` and retrying cannot help.
 */
export class InvalidArgumentError extends JobsError {
  constructor(
    /** The operation, e.g. `listFailed`. */
    readonly operation: string,
    /** The argument, e.g. `after` or `olderThanMs`. */
    readonly argument: string,
    /** What is wrong and how to fix it, e.g. `must be … , got NaN.` */
    readonly problem: string,
  ) {
    super(`Invalid argument "${argument}" of ${operation}(): ${problem}`);
  }
}
