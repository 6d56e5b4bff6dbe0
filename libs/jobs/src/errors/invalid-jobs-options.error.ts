import { JobsError } from './jobs.error';

/** Thrown at startup when `JobsModule.forRoot(...)` options are invalid; the message names the option and the fix. */
export class InvalidJobsOptionsError extends JobsError {
  constructor(
    readonly option: string,
    problem: string,
  ) {
    super(`JobsModule option "${option}" ${problem}`);
  }
}
