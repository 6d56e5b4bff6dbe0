import type { LoggerService } from '@nestjs/common';
import { toSafeError } from './error-record';

/**
 * Backoff after a worker statement failed for a reason of the database's (down, restarting, refusing
 * connections): 200 ms doubling up to 25.6 s, capped at ten poll intervals, shared by the fetch loop and
 * the completion batcher so that both slow down together and recover together.
 */
export class DatabaseBackoff {
  private failures = 0;

  constructor(
    private readonly pollIntervalMs: number,
    private readonly logger: LoggerService,
  ) {}

  /** Counts a failure, logs it, and returns how long to wait before trying `what` again. */
  next(what: string, error: unknown): number {
    this.failures++;
    const delay = Math.min(this.pollIntervalMs * 10, 100 * 2 ** Math.min(this.failures, 8));
    this.logger.error(
      `Could not ${what} jobs (${toSafeError(error).message}); retrying in ${delay} ms`,
    );
    return delay;
  }

  /** A statement went through: the next failure starts the backoff over. */
  reset(): void {
    this.failures = 0;
  }
}
