import { InvalidArgumentError } from '../errors';
import type { FailedJobsFilter, FinishedJobState, PurgeOptions } from '../interfaces';
import { checkDelayMs, checkInt4, checkJobId, checkName } from '../values';

const FINISHED_STATES: readonly FinishedJobState[] = ['completed', 'failed', 'cancelled'];

/*
 * Argument checks of the operations of `JobQueueService`, before any statement is sent: a caller's
 * mistake is an `InvalidArgumentError` naming the operation, the argument and the fix, never a raw
 * `DatabaseError` (`invalid input syntax for type bigint`, `interval out of range`, …). Ids given to
 * `find` / `cancel` / `retry` / `discard` are not checked here: a value that cannot name a job is
 * simply "not found". The account scope is checked by `resolveOperationScope`.
 */

/** `listFailed`: `limit` 1–1,000, `after` a job id (a previous page's `nextCursor`), names storable. */
export function checkListFailed(filter: FailedJobsFilter): void {
  const fail = (argument: string, problem: string | undefined): void => {
    if (problem !== undefined) throw new InvalidArgumentError('listFailed', argument, problem);
  };
  if (filter.limit !== undefined) fail('limit', checkInt4(filter.limit, { min: 1, max: 1_000 }));
  if (filter.after !== undefined) fail('after', checkJobId(filter.after));
  if (filter.name !== undefined) fail('name', checkName(filter.name, 'jobName'));
  if (filter.queue !== undefined) fail('queue', checkName(filter.queue, 'queue'));
}

/** `purge`: `olderThanMs` from 0 to 100 years, `states` a non-empty list of finished states. */
export function checkPurge(options: PurgeOptions): void {
  const fail = (argument: string, problem: string | undefined): void => {
    if (problem !== undefined) throw new InvalidArgumentError('purge', argument, problem);
  };
  fail('olderThanMs', checkDelayMs(options.olderThanMs));
  const states: unknown = options.states;
  if (states === undefined) return;
  if (
    !Array.isArray(states) ||
    states.length === 0 ||
    states.some((s) => !FINISHED_STATES.includes(s as FinishedJobState))
  ) {
    fail('states', `must be a non-empty array of ${FINISHED_STATES.join(', ')}.`);
  }
}
