import { ForbiddenException, Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { ClsService } from 'nestjs-cls';
import type { JobRecord, OperationScope } from '../interfaces';
import { DASHBOARD_MOUNT } from './dashboard.constants';
import { DashboardInternals } from './dashboard-internals';
import type { DashboardMount } from './dashboard-mount';
import { InvalidDashboardOptionsError } from './invalid-dashboard-options.error';

/**
 * The scope of the queue operations a dashboard request makes: the admin dashboard acts across accounts
 * explicitly (operations are tenant-scoped, and the request may carry an account of its own), the
 * account-scoped one for its account only.
 */
export function operationScope(accountId: string | undefined): OperationScope {
  return accountId === undefined ? { allAccounts: true } : { accountId };
}

/**
 * Which account a request may see. With `scope: 'all'` every account; with `scope: 'account'` only the
 * current CLS account (`tenant.clsKey`, set by the app's ClsModule middleware or guard), and a request
 * with none is refused: the scoped dashboard fails closed.
 */
@Injectable()
export class DashboardScope implements OnModuleInit {
  private clsKey: string | undefined;

  constructor(
    @Inject(DASHBOARD_MOUNT) private readonly mount: DashboardMount,
    private readonly internals: DashboardInternals,
    private readonly cls: ClsService,
  ) {}

  onModuleInit(): void {
    if (this.mount.scope !== 'account') return;
    this.internals.onModuleInit();
    this.clsKey = this.internals.options.tenant?.clsKey;
    if (!this.clsKey) {
      throw new InvalidDashboardOptionsError(
        'scope',
        "is 'account' but JobsModule has no tenant option: set tenant.clsKey in JobsModule.forRoot, " +
          "or use scope: 'all'.",
      );
    }
  }

  /** `true` in the account-scoped mode. */
  get scoped(): boolean {
    return this.mount.scope === 'account';
  }

  /** The account every query is limited to, or `undefined` for all; throws 403 when scoped without one. */
  accountId(): string | undefined {
    if (!this.clsKey) return undefined;
    const value: unknown = this.cls.isActive() ? this.cls.get(this.clsKey) : undefined;
    if (value === undefined || value === null || value === '') {
      throw new ForbiddenException(
        `This dashboard shows one account's jobs, and the request has none (CLS key "${this.clsKey}").`,
      );
    }
    return String(value);
  }

  /**
   * Runs a `JobFlowControl` call for this request. The operator's dashboard acts across accounts, so the
   * call runs in a fresh CLS context without the request's account (which would limit `listPaused` to
   * it and refuse other accounts' pauses); the account-scoped one runs it in the request's context,
   * where `JobFlowControl` itself accepts only the current account.
   */
  asOperator<T>(fn: () => Promise<T>): Promise<T> {
    return this.scoped ? fn() : this.cls.runWith({}, fn);
  }

  /** Whether the request may see `job` (a job of another account is "not found"). */
  allows(job: JobRecord, accountId: string | undefined): boolean {
    return accountId === undefined || job.accountId === accountId;
  }
}
