import { JobsError } from '../errors';

/**
 * Thrown at startup when the options of `JobsDashboardModule.forRoot(...)` are invalid or cannot be met;
 * the message names the option and the fix.
 */
export class InvalidDashboardOptionsError extends JobsError {
  constructor(
    readonly option: string,
    problem: string,
    cause?: unknown,
  ) {
    super(`JobsDashboardModule option "${option}" ${problem}`, { cause });
  }
}
