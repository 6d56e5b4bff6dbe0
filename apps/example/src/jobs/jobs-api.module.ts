import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { JobsController } from './jobs.controller';

/** HTTP access to the current account's jobs (`JobQueueService` comes from the global `JobsModule`). */
@Module({
  imports: [AccountsModule],
  controllers: [JobsController],
})
export class JobsApiModule {}
