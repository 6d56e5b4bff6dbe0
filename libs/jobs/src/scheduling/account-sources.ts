import { Inject, Injectable, Type } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import { JobDefinitionError } from '../errors';
import type { AccountSource } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';

/**
 * The app's account source (`tenant.accounts`), which `perAccount` schedules fan out to: a class resolved
 * from the app's DI once, or an object.
 */
@Injectable()
export class AccountSources {
  private resolved: AccountSource | undefined;

  constructor(
    private readonly moduleRef: ModuleRef,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  /** The account source; throws a startup error naming `where` (the schedule) if there is none. */
  get(where = 'a perAccount schedule'): AccountSource {
    if (this.resolved) return this.resolved;
    const source = this.options.tenant?.accounts;
    if (!source) {
      throw new JobDefinitionError(
        `${where}: perAccount needs an account source: set tenant.accounts in JobsModule options.`,
      );
    }
    let resolved: AccountSource;
    try {
      resolved =
        typeof source === 'function'
          ? this.moduleRef.get(source as Type<AccountSource>, { strict: false })
          : source;
    } catch {
      throw new JobDefinitionError(
        `${where}: tenant.accounts names ${(source as Type<AccountSource>).name}, which no module ` +
          `provides. Add it to the providers of a module the app imports.`,
      );
    }
    return (this.resolved = resolved);
  }
}
