import { Inject, Injectable, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { ClsService } from 'nestjs-cls';
import type { JobDefinition } from '../discovery/job-definition';
import { AccountUnavailableError, MissingTenantError } from '../errors';
import type { AccountResolver } from '../interfaces';
import { JOB_ID_CLS_KEY } from '../jobs.constants';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { normalizeAccountId, toJobId } from '../values';
import { proxyProviderResolver } from './proxy-providers';

/**
 * Moves the current account between a request and the jobs it enqueues: captured once at enqueue into the
 * job row's `account_id`, re-entered in a fresh CLS context around every perform.
 */
@Injectable()
export class TenantContext {
  private resolver: AccountResolver | undefined;
  /** The last account id string `normalize` accepted (valid strings are returned as they are). */
  private lastValidAccountId: string | undefined;
  private readonly resolveProxies: () => Promise<void> | undefined;
  /** `tenant.clsKey` names a path into the CLS store (`tenant.id`) rather than a plain key. */
  private readonly accountKeyIsPath: boolean;

  constructor(
    private readonly cls: ClsService,
    private readonly moduleRef: ModuleRef,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {
    this.resolveProxies = proxyProviderResolver(cls);
    this.accountKeyIsPath = options.tenant?.clsKey.includes('.') ?? false;
  }

  /**
   * The account in the current CLS context (a request, or a job being performed), if any, normalized by
   * `normalizeAccountId` (`42` → `'42'`; an object, a blank string, NaN … throw `InvalidAccountIdError`
   * naming the CLS key). An empty string means "no account", like `undefined`: an empty `X-Account-Id`
   * header is common, and for a tenant-scoped job it still fails closed with `MissingTenantError`.
   */
  currentAccountId(jobName?: string): string | undefined {
    const key = this.options.tenant?.clsKey;
    if (!key || !this.cls.isActive()) return undefined;
    const value: unknown = this.cls.get(key);
    if (value === undefined || value === null || value === '') return undefined;
    return this.normalize(value, { from: 'cls', clsKey: key }, jobName) ?? undefined;
  }

  /**
   * The id of the job being performed in the current CLS context (its stored row's id), if any: a job
   * enqueued now records it as its parent. `performNow` runs have no row (`now-…` ids) and give none.
   */
  currentJobId(): string | null {
    if (!this.cls.isActive()) return null;
    return toJobId(this.cls.get(JOB_ID_CLS_KEY)) ?? null;
  }

  /**
   * The account a new job belongs to: `null` for a global job, else the explicit `accountId` option (named
   * `option` in errors, e.g. `[3].accountId`) or the current account. Both go through
   * `normalizeAccountId`, so an invalid one throws `InvalidAccountIdError`; an explicit `accountId` is
   * checked even where it is ignored (a global job), so a bad value never passes silently. Fails closed:
   * a tenant-scoped job with no account throws `MissingTenantError`.
   */
  captureFor(
    definition: JobDefinition,
    explicitAccountId?: unknown,
    option = 'accountId',
  ): string | null {
    const explicit = this.normalize(explicitAccountId, { from: 'option', option }, definition.name);
    const tenant = this.options.tenant;
    if (!tenant || definition.tenant === 'none') return null;
    const accountId = explicit ?? this.currentAccountId(definition.name);
    if (accountId === undefined || accountId === null) {
      throw new MissingTenantError(definition.name, tenant.clsKey);
    }
    return accountId;
  }

  /**
   * `normalizeAccountId`, remembering the last string it accepted: a bulk enqueue or a request's
   * enqueues repeat one account id, which is then checked once instead of once per job.
   */
  private normalize(
    value: unknown,
    source: Parameters<typeof normalizeAccountId>[1],
    jobName: string | undefined,
  ): string | null | undefined {
    if (typeof value === 'string' && value === this.lastValidAccountId) return value;
    const normalized = normalizeAccountId(value, source, jobName);
    if (typeof value === 'string') this.lastValidAccountId = value;
    return normalized;
  }

  /**
   * Runs `fn` in a fresh CLS context (never the caller's or a previous job's store) holding the job's
   * account and id, after the app's resolver confirmed the account. The context ends with `fn`.
   * Written without `async`: on the worker's hot path every avoided promise counts.
   */
  run<T>(job: { id: string; accountId: string | null }, fn: () => Promise<T>): Promise<T> {
    const tenant = this.options.tenant;
    const accountId = tenant ? job.accountId : null;
    // The store starts with the job's id and account; a dotted clsKey is a path, set through CLS.
    const store: Record<string, unknown> = { [JOB_ID_CLS_KEY]: job.id };
    if (tenant && accountId !== null && !this.accountKeyIsPath) store[tenant.clsKey] = accountId;
    return this.cls.runWith(store, () => {
      try {
        if (tenant && accountId !== null && this.accountKeyIsPath)
          this.cls.set(tenant.clsKey, accountId);
        const entered =
          tenant && accountId !== null && this.getResolver()
            ? this.enterAccount(accountId, tenant.accountClsKey)
            : undefined;
        const ready = entered ? entered.then(this.resolveProxies) : this.resolveProxies();
        return ready ? ready.then(fn) : fn();
      } catch (error) {
        return Promise.reject(error as Error);
      }
    });
  }

  private async enterAccount(accountId: string, accountClsKey: string | undefined): Promise<void> {
    const account = await this.resolve(accountId);
    if (accountClsKey) this.cls.set(accountClsKey, account);
  }

  private async resolve(accountId: string): Promise<unknown> {
    const resolver = this.getResolver();
    if (!resolver) return undefined;
    const account = await resolver.resolve(accountId);
    if (account === null || account === undefined || account === false) {
      throw new AccountUnavailableError(accountId);
    }
    return account;
  }

  private getResolver(): AccountResolver | undefined {
    const configured = this.options.tenant?.resolver;
    if (!configured || this.resolver) return this.resolver;
    this.resolver =
      typeof configured === 'function'
        ? this.moduleRef.get(configured as Type<AccountResolver>, { strict: false })
        : configured;
    return this.resolver;
  }
}
