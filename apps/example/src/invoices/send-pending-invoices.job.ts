import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Job, JobContext, JobHandler, Recurring } from 'nestjs-tenant-jobs';
import { Mailer } from '../mailer/mailer';
import { OrdersRepository } from '../orders/orders.repository';
import { invoiceMail } from './invoice-mail';

export interface SendPendingInvoicesResult {
  /** Invoices mailed by this run. */
  invoiced: number;
}

/**
 * Every 10 minutes (Tokyo wall clock), one job per active account: mails an invoice for each confirmed
 * order of the job's account (CLS, through `OrdersRepository`) that has none yet, and sets `invoicedAt`.
 *
 * Idempotency: each order gets its own short transaction that locks it only if it is still uninvoiced
 * (`for update skip locked`), sends the mail, sets `invoiced_at` and commits. So a re-run, a retry or an
 * overlapping run never mails a committed invoice again, and two runs at once take different orders. A
 * failed send rolls back that order alone: it stays uninvoiced for the retry (or the next tick), while the
 * orders invoiced before it stay done. We chose this over claiming rows first
 * (`update … set invoiced_at = now() … returning *`, then mail after commit) because that loses the
 * invoices whose send fails or whose process dies mid-batch; here the only duplicate left is a crash
 * between the mail provider accepting a mail and the commit (a real provider's idempotency key, the order
 * id, would close that too). A send that keeps failing (say, a bounced address) fails the job after its
 * attempts and holds back the account's later orders until it is fixed; a real app would park such orders.
 */
@Recurring({
  cron: '*/10 * * * *',
  timeZone: 'Asia/Tokyo',
  perAccount: true,
  key: 'invoices.send-pending',
})
@Job({ name: 'invoices.send-pending' })
export class SendPendingInvoicesJob implements JobHandler<
  Record<string, never>,
  SendPendingInvoicesResult
> {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly orders: OrdersRepository,
    private readonly mailer: Mailer,
  ) {}

  async perform(
    _payload: Record<string, never>,
    ctx: JobContext,
  ): Promise<SendPendingInvoicesResult> {
    let invoiced = 0;
    // On shutdown or cancellation, stop between orders: the rest wait for the next tick.
    while (!ctx.signal.aborted) {
      const sent = await this.dataSource.transaction(async (manager) => {
        const order = await this.orders.lockNextUninvoiced(manager);
        if (!order) return false;
        await this.mailer.send(invoiceMail(order));
        await this.orders.markInvoiced(order.id, manager);
        return true;
      });
      if (!sent) break;
      invoiced++;
      // How far this run is, for GET /jobs/:id (written at most once a second, and once at the end).
      ctx.progress({ invoiced });
    }
    if (invoiced > 0) ctx.logger.log(`Mailed ${invoiced} invoice(s) in account ${ctx.accountId}`);
    return { invoiced };
  }
}
