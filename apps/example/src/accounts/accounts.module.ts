import { Module } from '@nestjs/common';
import { TypeOrmModule } from '@nestjs/typeorm';
import { Account } from './account.entity';
import { AccountsController } from './accounts.controller';
import { AccountsResolver } from './accounts.resolver';
import { AccountsService } from './accounts.service';
import { ActiveAccountsSource } from './active-accounts.source';
import { CurrentAccount } from './current-account.service';
import { RequireAccountGuard } from './require-account.guard';

@Module({
  imports: [TypeOrmModule.forFeature([Account])],
  controllers: [AccountsController],
  providers: [
    AccountsService,
    AccountsResolver,
    ActiveAccountsSource,
    CurrentAccount,
    RequireAccountGuard,
  ],
  exports: [
    AccountsService,
    AccountsResolver,
    ActiveAccountsSource,
    CurrentAccount,
    RequireAccountGuard,
  ],
})
export class AccountsModule {}
