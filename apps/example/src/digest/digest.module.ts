import { Module } from '@nestjs/common';
import { AccountsModule } from '../accounts/accounts.module';
import { MailerModule } from '../mailer/mailer.module';
import { OrdersModule } from '../orders/orders.module';
import { SendDailyDigestJob } from './send-daily-digest.job';

/** The daily per-account digest mail (see `SendDailyDigestJob`). */
@Module({
  imports: [AccountsModule, OrdersModule, MailerModule],
  providers: [SendDailyDigestJob],
})
export class DigestModule {}
