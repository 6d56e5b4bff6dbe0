import { Inject, Injectable } from '@nestjs/common';
import type { Html } from './html/html.template';
import type { PageFrame } from './html/layout.template';
import { DASHBOARD_SETTINGS } from './dashboard.constants';
import { DashboardInternals } from './dashboard-internals';
import type { DashboardSettings } from './dashboard-mount';
import { parseChildrenCursor, parseFilter } from './dashboard-query';
import { PausedView, pausedView } from './html/paused.template';
import { DashboardScope, operationScope } from './dashboard-scope';
import { accountsPage } from './pages/accounts.page';
import { jobListPage } from './pages/job-list.page';
import { jobPage } from './pages/job.page';
import { overviewPage } from './pages/overview.page';
import { schedulesPage } from './pages/schedules.page';
import { workersPage } from './pages/workers.page';

/** Ticks shown per schedule. */
const TICKS_PER_SCHEDULE = 5;
/** Accounts shown on the accounts page. */
const ACCOUNTS_SHOWN = 500;
/** Children listed per page of a job's page. */
const CHILDREN_SHOWN = 50;

/** Gathers each page's data (scoped to the request's account when the mode says so) and renders it. */
@Injectable()
export class DashboardPages {
  constructor(
    private readonly internals: DashboardInternals,
    private readonly scope: DashboardScope,
    @Inject(DASHBOARD_SETTINGS) private readonly settings: DashboardSettings,
  ) {}

  async overview(frame: PageFrame, notice?: string): Promise<Html> {
    const [queues, paused] = await Promise.all([
      this.internals.repository.overview(this.scope.accountId()),
      this.paused(),
    ]);
    return overviewPage(frame, queues, paused, notice);
  }

  async jobs(frame: PageFrame, query: Record<string, unknown>, notice?: string): Promise<Html> {
    const filter = parseFilter(query, this.scope.accountId());
    const size = this.settings.pageSize;
    const rows = await this.internals.repository.listJobs(filter, size + 1);
    return jobListPage(frame, filter, rows.slice(0, size), rows.length > size, notice);
  }

  /**
   * The job page, or `null` when there is no such job for this request (404): the job, its parent (when
   * this request may see it) and one page of the jobs it enqueued (`children_before` pages on).
   */
  async job(
    frame: PageFrame,
    id: string,
    query: Record<string, unknown>,
    notice?: string,
  ): Promise<Html | null> {
    const accountId = this.scope.accountId();
    const scope = operationScope(accountId);
    const job = await this.internals.queue.find(id, scope);
    if (!job || !this.scope.allows(job, accountId)) return null;
    const before = parseChildrenCursor(query);
    const [parent, children] = await Promise.all([
      job.parentId === null ? null : this.internals.queue.find(job.parentId, scope),
      this.internals.repository.children(job.id, accountId, before, CHILDREN_SHOWN + 1),
    ]);
    return jobPage(
      frame,
      job,
      {
        parent: parent && this.scope.allows(parent, accountId) ? parent : null,
        children: children.slice(0, CHILDREN_SHOWN),
        more: children.length > CHILDREN_SHOWN,
        before,
      },
      notice,
    );
  }

  async schedules(frame: PageFrame, notice?: string): Promise<Html> {
    const mounted = await this.internals.mountedSchedules();
    const now = new Date();
    const ticks = await this.internals.repository.recentTicks(
      mounted.map((s) => s.key),
      TICKS_PER_SCHEDULE,
    );
    const views = mounted.map((s) => ({
      key: s.key,
      job: s.definition.name,
      cron: s.options.cron,
      timeZone: s.fireTimes.timeZone ?? 'UTC',
      perAccount: s.options.perAccount === true,
      nextFire: s.fireTimes.next(now),
    }));
    return schedulesPage(frame, views, ticks, notice);
  }

  async workers(frame: PageFrame): Promise<Html> {
    return workersPage(frame, await this.internals.repository.workers());
  }

  async accounts(frame: PageFrame, notice?: string): Promise<Html> {
    const [accounts, paused] = await Promise.all([
      this.internals.repository.accounts(ACCOUNTS_SHOWN),
      this.paused(),
    ]);
    return accountsPage(frame, accounts, paused, ACCOUNTS_SHOWN, notice);
  }

  /** What is paused, as this dashboard may see it (the scoped one: the queues and its own account). */
  private async paused(): Promise<PausedView> {
    const entries = await this.scope.asOperator(() => this.internals.flow.listPaused());
    return pausedView(entries);
  }
}
