import { Injectable } from '@nestjs/common';
import type { AccountResolver } from 'nestjs-tenant-jobs';
import { Account } from './account.entity';
import { AccountsService } from './accounts.service';

/**
 * Checked by the jobs worker before every tenant-scoped job performs: a job of a deleted or disabled
 * account fails with `AccountUnavailableError` (not retried) instead of running.
 */
@Injectable()
export class AccountsResolver implements AccountResolver {
  constructor(private readonly accounts: AccountsService) {}

  resolve(accountId: string): Promise<Account | null> {
    return this.accounts.findActive(accountId);
  }
}
