import type { JobDefinition } from '../discovery/job-definition';
import { InvalidEnqueueOptionsError } from '../errors';
import type { BulkJob } from '../interfaces/enqueue-options.interface';
import { checkDelayMs, checkInt4, checkName, checkPositiveInt4, checkRunAt } from '../values';

/**
 * Rejects options the jobs table would refuse or silently change, before anything is sent, so a caller's
 * mistake is an `InvalidEnqueueOptionsError` naming the option and the fix, never an
 * `EnqueueFailedError` with raw PostgreSQL text (and never an aborted caller transaction): `runAt`
 * outside 1970–9999 or not a Date, `delayMs` negative, NaN or over 100 years, `priority` / `maxAttempts`
 * that are not PostgreSQL integers (fractions, 2^31, 1e20), and `queue` / `uniqueKey` that are empty,
 * unstorable (U+0000, a lone surrogate) or too long for their btree index (see `checkName`). `prefix`
 * names the bulk item (`[3].runAt`). The account id is checked where it is captured (`TenantContext`).
 */
export function validateEnqueueOptions(
  definition: JobDefinition,
  item: BulkJob<unknown>,
  prefix: string,
): void {
  const check = (option: string, problem: string | undefined): void => {
    if (problem === undefined) return;
    throw new InvalidEnqueueOptionsError(
      definition.name,
      `${prefix ? `${prefix}.` : ''}${option}`,
      problem,
    );
  };
  // Most enqueues set no option at all: each check costs one `undefined` test then.
  if (item.runAt !== undefined) check('runAt', checkRunAt(item.runAt));
  if (item.delayMs !== undefined) check('delayMs', checkDelayMs(item.delayMs));
  if (item.priority !== undefined) check('priority', checkInt4(item.priority));
  if (item.maxAttempts !== undefined) check('maxAttempts', checkPositiveInt4(item.maxAttempts));
  if (item.queue !== undefined) check('queue', checkName(item.queue, 'queue'));
  if (item.uniqueKey !== undefined) check('uniqueKey', checkName(item.uniqueKey, 'uniqueKey'));
}
