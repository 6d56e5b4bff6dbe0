import type { JobDefinition } from '../discovery/job-definition';
import { InvalidEnqueueOptionsError } from '../errors';
import type { BulkJob } from '../interfaces/enqueue-options.interface';

/**
 * Rejects options that would otherwise be silently coerced (an invalid `runAt` would run the job now, a
 * fractional priority would be rounded by PostgreSQL). `prefix` names the bulk item (`[3].runAt`).
 */
export function validateEnqueueOptions(
  definition: JobDefinition,
  item: BulkJob<unknown>,
  prefix: string,
): void {
  const fail = (option: string, problem: string): never => {
    throw new InvalidEnqueueOptionsError(
      definition.name,
      `${prefix ? `${prefix}.` : ''}${option}`,
      problem,
    );
  };
  if (
    item.runAt !== undefined &&
    !(item.runAt instanceof Date && Number.isFinite(item.runAt.getTime()))
  ) {
    fail('runAt', 'must be a valid Date.');
  }
  if (item.delayMs !== undefined && !(Number.isFinite(item.delayMs) && item.delayMs >= 0)) {
    fail('delayMs', `must be a non-negative number of milliseconds, got ${String(item.delayMs)}.`);
  }
  if (item.priority !== undefined && !Number.isInteger(item.priority)) {
    fail('priority', `must be an integer (lower runs first), got ${String(item.priority)}.`);
  }
  if (
    item.maxAttempts !== undefined &&
    !(Number.isInteger(item.maxAttempts) && item.maxAttempts > 0)
  ) {
    fail('maxAttempts', `must be a positive integer, got ${String(item.maxAttempts)}.`);
  }
  if (item.queue !== undefined && (typeof item.queue !== 'string' || item.queue === '')) {
    fail('queue', 'must be a non-empty string.');
  }
  if (
    item.uniqueKey !== undefined &&
    (typeof item.uniqueKey !== 'string' || item.uniqueKey === '')
  ) {
    fail('uniqueKey', 'must be a non-empty string.');
  }
}
