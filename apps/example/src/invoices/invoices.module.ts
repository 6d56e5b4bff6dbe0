import { Module } from '@nestjs/common';
import { MailerModule } from '../mailer/mailer.module';
import { OrdersModule } from '../orders/orders.module';
import { SendPendingInvoicesJob } from './send-pending-invoices.job';

/** Invoicing of confirmed orders, on a schedule (see `SendPendingInvoicesJob`). */
@Module({
  imports: [OrdersModule, MailerModule],
  providers: [SendPendingInvoicesJob],
})
export class InvoicesModule {}
