import { Inject, Injectable, Logger } from '@nestjs/common';
import type { JobClass, OperationScope, PauseKind } from '../interfaces';
import { toError } from '../errors';
import type { JobListFilter } from '../persistence/dashboard.repository';
import { DASHBOARD_MOUNT, DASHBOARD_SETTINGS } from './dashboard.constants';
import { DashboardInternals } from './dashboard-internals';
import type { DashboardMount, DashboardSettings } from './dashboard-mount';
import { DashboardScope, operationScope } from './dashboard-scope';

/** What the job actions are called in URLs, and the verb the log and the notice use. */
export const JOB_ACTIONS = { retry: 'retried', cancel: 'cancelled', discard: 'discarded' } as const;
/** A job action. */
export type JobAction = keyof typeof JOB_ACTIONS;

/** Pause and resume, of a queue or an account (they act on no job), and the verb the log uses. */
export const FLOW_ACTIONS = { pause: 'paused', resume: 'resumed' } as const;
/** A flow action. */
export type FlowAction = keyof typeof FLOW_ACTIONS;
/** What a flow action applies to. */
export type FlowTarget = PauseKind;

/** Bulk actions run this many queue calls at a time: quick, without taking the app's whole pool. */
const BULK_CONCURRENCY = 4;

/**
 * The dashboard's actions, each through `JobQueueService` (so every rule of the queue holds: only a
 * failed or cancelled job is retried, only an unfinished one cancelled), each logged with who did it.
 * In the account-scoped mode a job of another account is "not found", exactly like a missing one.
 */
@Injectable()
export class DashboardActions {
  private readonly logger = new Logger('JobsDashboard');

  constructor(
    private readonly internals: DashboardInternals,
    private readonly scope: DashboardScope,
    @Inject(DASHBOARD_MOUNT) private readonly mount: DashboardMount,
    @Inject(DASHBOARD_SETTINGS) private readonly settings: DashboardSettings,
  ) {}

  /** Runs `action` on one job: `null` when the job is not found for this request, else whether it applied. */
  async onJob(action: JobAction, id: string, actor: string): Promise<boolean | null> {
    const accountId = this.scope.accountId();
    const scope = operationScope(accountId);
    const job = await this.internals.queue.find(id, scope);
    if (!job || !this.scope.allows(job, accountId)) return null;
    const applied = await this.apply(action, id, scope);
    this.logger.log(
      `${actor} ${applied ? JOB_ACTIONS[action] : `tried to ${action} (state ${job.state})`} job ${id} ` +
        `(${job.name}) from the dashboard at ${this.mount.path}`,
    );
    return applied;
  }

  /** How many jobs a bulk action on `filter` would touch, up to the bulk limit. */
  async countMatching(filter: JobListFilter): Promise<number> {
    const ids = await this.internals.repository.filteredIds(
      this.scoped(filter),
      this.settings.bulkLimit,
    );
    return ids.length;
  }

  /** Runs `action` on every job matching `filter` (at most the bulk limit); returns how many it applied to. */
  async onFilter(
    action: JobAction,
    filter: JobListFilter,
    actor: string,
  ): Promise<{ matched: number; applied: number }> {
    const ids = await this.internals.repository.filteredIds(
      this.scoped(filter),
      this.settings.bulkLimit,
    );
    const scope = operationScope(this.scope.accountId());
    let applied = 0;
    for (let i = 0; i < ids.length; i += BULK_CONCURRENCY) {
      const done = await Promise.all(
        ids
          .slice(i, i + BULK_CONCURRENCY)
          .map((id) => this.apply(action, id, scope).catch(() => false)),
      );
      applied += done.filter(Boolean).length;
    }
    this.logger.log(
      `${actor} ${JOB_ACTIONS[action]} ${applied} of ${ids.length} job(s) matching ${JSON.stringify(filter)} ` +
        `from the dashboard at ${this.mount.path}`,
    );
    return { matched: ids.length, applied };
  }

  /**
   * Enqueues a recurring schedule's job now, outside its cron: one job (or one per account for a
   * `perAccount` schedule), with the schedule's payload, queue and priority. It is not a tick: no tick
   * row is written, so the schedule's own ticks and its missed-tick check are untouched. `null` when no
   * schedule has that key.
   */
  async runSchedule(key: string, actor: string): Promise<string[] | null> {
    const schedule = (await this.internals.mountedSchedules()).find((s) => s.key === key);
    if (!schedule) return null;
    const accounts = schedule.options.perAccount
      ? await this.internals.listAccountIds()
      : [schedule.options.accountId];
    const ids = await this.internals.queue.performAllLater(
      schedule.definition.type as JobClass,
      accounts.map((accountId) => ({
        payload: schedule.options.payload ?? {},
        accountId,
        queue: schedule.options.queue,
        priority: schedule.options.priority,
      })),
    );
    this.logger.log(
      `${actor} ran schedule ${key} now from the dashboard at ${this.mount.path}: job(s) ${ids.join(', ')}`,
    );
    return ids;
  }

  /**
   * Pauses or resumes a queue or an account through `JobFlowControl`: `null` when this dashboard may not
   * (the account-scoped one pauses only its own account, never a queue), else whether it changed
   * anything. A queue name or account id `JobFlowControl` refuses throws its typed error (a 400 page).
   */
  async flow(
    action: FlowAction,
    target: FlowTarget,
    key: string,
    actor: string,
  ): Promise<boolean | null> {
    if (this.scope.scoped && (target === 'queue' || key !== this.scope.accountId())) return null;
    const flow = this.internals.flow;
    const changed = await this.scope.asOperator(() =>
      target === 'queue'
        ? action === 'pause'
          ? flow.pauseQueue(key)
          : flow.resumeQueue(key)
        : action === 'pause'
          ? flow.pauseAccount(key)
          : flow.resumeAccount(key),
    );
    this.logger.log(
      `${actor} ${changed ? FLOW_ACTIONS[action] : `tried to ${action} (already ${FLOW_ACTIONS[action]})`} ` +
        `${target} ${JSON.stringify(key)} from the dashboard at ${this.mount.path}`,
    );
    return changed;
  }

  private scoped(filter: JobListFilter): JobListFilter {
    const accountId = this.scope.accountId();
    return accountId === undefined ? filter : { ...filter, accountId };
  }

  private async apply(action: JobAction, id: string, scope: OperationScope): Promise<boolean> {
    try {
      switch (action) {
        case 'retry':
          return await this.internals.queue.retry(id, scope);
        case 'cancel':
          return await this.internals.queue.cancel(id, scope);
        case 'discard':
          return await this.internals.queue.discard(id, scope);
      }
    } catch (error) {
      // e.g. a retry refused while another unfinished job holds the unique key: say why, apply nothing.
      this.logger.warn(`Dashboard ${action} of job ${id} failed: ${toError(error).message}`);
      return false;
    }
  }
}
