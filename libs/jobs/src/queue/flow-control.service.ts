import { Inject, Injectable } from '@nestjs/common';
import { ForeignAccountError, InvalidAccountIdError, InvalidArgumentError } from '../errors';
import type { PausedEntry } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { PAUSE_STORE, PauseStore } from '../persistence/pause-store';
import { TenantContext } from '../tenancy/tenant-context';
import { checkName, describeValue, normalizeAccountId } from '../values';

/**
 * Pause and resume a queue, or every job of one account, across every worker on the database. A pause is
 * a row in the jobs schema, so it outlives restarts: a paused queue stays paused until it is resumed.
 * Workers stop claiming paused jobs within one poll interval (at once when they LISTEN: a pause sends a
 * NOTIFY) and hand back the paused jobs they had claimed but not started; running jobs finish. Paused
 * jobs keep their place: nothing is failed, retried or counted, and enqueueing to a paused queue or
 * account still works (the jobs wait).
 *
 * Every method is idempotent and resolves with whether it changed anything. Pausing a queue stops every
 * account's jobs in it: that is system or admin code (guard the endpoint that calls it). Inside an
 * account's CLS context, `pauseAccount` / `resumeAccount` accept only that account (`ForeignAccountError`
 * for another) and `listPaused` shows only the queues and that account.
 *
 * @example await this.flow.pauseAccount('acme'); // from an admin tool, outside any account's context
 */
@Injectable()
export class JobFlowControl {
  constructor(
    @Inject(PAUSE_STORE) private readonly store: PauseStore,
    private readonly tenant: TenantContext,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  /** Pauses every job of `queue` (any account). `false` when it was paused already. */
  async pauseQueue(queue: string): Promise<boolean> {
    return this.store.pause('queue', this.queueName('pauseQueue', queue));
  }

  /** Resumes `queue`; its waiting jobs are claimed again at once. `false` when it was not paused. */
  async resumeQueue(queue: string): Promise<boolean> {
    return this.store.resume('queue', this.queueName('resumeQueue', queue));
  }

  /** Pauses every job of `accountId`, in every queue. `false` when it was paused already. */
  async pauseAccount(accountId: string | number): Promise<boolean> {
    return this.store.pause('account', this.accountKey('pauseAccount', accountId));
  }

  /** Resumes `accountId`'s jobs. `false` when it was not paused. */
  async resumeAccount(accountId: string | number): Promise<boolean> {
    return this.store.resume('account', this.accountKey('resumeAccount', accountId));
  }

  /**
   * What is paused: queues first, then accounts, oldest first. Inside an account's context: the queues
   * and that account only (other accounts' pauses are theirs).
   */
  async listPaused(): Promise<PausedEntry[]> {
    return this.store.listPaused(this.tenant.currentAccountId() ?? null);
  }

  /** A queue name as `@Job({ queue })` accepts it, else `InvalidArgumentError` before any statement. */
  private queueName(operation: string, queue: unknown): string {
    const problem = checkName(queue, 'queue');
    if (problem !== undefined) throw new InvalidArgumentError(operation, 'queue', problem);
    return queue as string;
  }

  /** The account as it is stored with its jobs; refused when it is not the current context's. */
  private accountKey(operation: string, value: unknown): string {
    const option = `${operation}(accountId)`;
    const accountId = normalizeAccountId(value, { from: 'option', option });
    if (accountId === undefined || accountId === null) {
      throw new InvalidAccountIdError(
        { from: 'option', option },
        `got ${describeValue(value)}; name the account to ${operation.startsWith('pause') ? 'pause' : 'resume'}.`,
      );
    }
    const current = this.tenant.currentAccountId();
    if (current !== undefined && current !== accountId) {
      const clsKey = this.options.tenant?.clsKey ?? '';
      throw new ForeignAccountError(operation, accountId, current, clsKey);
    }
    return accountId;
  }
}
