import { JobsError } from './jobs.error';

/**
 * A feature was used whose optional peer dependency is not installed (e.g. `@Recurring` without
 * `@nestjs/schedule`). The library loads and enqueues without it; only the feature that needs it fails,
 * at startup where it can.
 */
export class MissingDependencyError extends JobsError {
  constructor(
    readonly packageName: string,
    neededBy: string,
    setUp: string,
    cause?: unknown,
  ) {
    super(
      `${neededBy} needs ${packageName}, which is not installed: run \`npm install ${packageName}\` ` +
        `and ${setUp}.`,
      { cause },
    );
  }
}
