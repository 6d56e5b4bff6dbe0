import { Injectable } from '@nestjs/common';
import type { AccountSource } from 'nestjs-tenant-jobs';
import { AccountsService } from './accounts.service';

/**
 * The accounts that `perAccount` schedules fan out to: the active ones, read at each tick. A disabled
 * account gets no recurring jobs (and the ones already waiting fail in `AccountsResolver`).
 */
@Injectable()
export class ActiveAccountsSource implements AccountSource {
  constructor(private readonly accounts: AccountsService) {}

  listAccountIds(): Promise<string[]> {
    return this.accounts.activeIds();
  }
}
