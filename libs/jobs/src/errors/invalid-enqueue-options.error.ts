import { JobsError } from './jobs.error';

/** Thrown at enqueue when an option (`runAt`, `delayMs`, `priority`, …) is invalid. Nothing is written. */
export class InvalidEnqueueOptionsError extends JobsError {
  constructor(
    readonly jobName: string,
    readonly option: string,
    problem: string,
    options?: { cause?: unknown },
  ) {
    super(`Invalid enqueue option "${option}" for job "${jobName}": ${problem}`, options);
  }
}
