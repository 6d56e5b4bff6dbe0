import type { LoggerService } from '@nestjs/common';
import type { JobAttempt } from '../persistence/job-attempt';
import { type AttemptOutcome, outcomeName } from './attempt-outcome';

/**
 * The debug lines of `logLevel: 'debug'` (or `'verbose'`): one when an attempt starts and one when its
 * outcome is recorded, with the job's id, name, attempt, account and duration. Never the payload (it may
 * hold personal data) nor the result. Failures keep their own warning/error lines (always on).
 */
export class JobLogs {
  constructor(private readonly logger: LoggerService) {}

  /** The lines of this log level, or `undefined` (no line built) above `debug`. */
  static create(logLevel: string, logger: LoggerService): JobLogs | undefined {
    return logLevel === 'debug' || logLevel === 'verbose' ? new JobLogs(logger) : undefined;
  }

  started(job: JobAttempt): void {
    this.logger.debug?.(`Job ${job.name} #${job.id} started (${this.of(job)})`);
  }

  ended(job: JobAttempt, outcome: AttemptOutcome, durationMs: number): void {
    this.logger.debug?.(
      `Job ${job.name} #${job.id} ${outcomeName(outcome)} (${this.of(job)}, ran ${durationMs.toFixed(1)} ms)`,
    );
  }

  private of(job: JobAttempt): string {
    const account = job.accountId === null ? 'global' : `account ${job.accountId}`;
    return `attempt ${job.attempt}/${job.maxAttempts}, ${account}`;
  }
}
