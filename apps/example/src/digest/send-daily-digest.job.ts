import { Job, JobContext, JobHandler, Recurring } from 'nestjs-tenant-jobs';
import { CurrentAccount } from '../accounts/current-account.service';
import { Mailer } from '../mailer/mailer';
import { OrdersRepository } from '../orders/orders.repository';
import { confirmedCount, dailyDigestMail } from './daily-digest-mail';

export interface DailyDigestResult {
  /** Orders created in the last 24 hours. */
  orders: number;
  /** How many of them are confirmed. */
  confirmed: number;
}

/**
 * Every day at 08:00 Tokyo time, one job per active account: mails the account's owner a summary of its
 * orders of the last 24 hours. Everything is read through `OrdersRepository`, so the digest only ever
 * sees the job's own account (CLS).
 */
// A digest missed during a deploy at 08:00 is still worth sending once when a replica comes back.
@Recurring({
  cron: '0 8 * * *',
  timeZone: 'Asia/Tokyo',
  perAccount: true,
  key: 'digest.daily',
  missedTicks: 'latest',
})
@Job({ name: 'digest.daily' })
export class SendDailyDigestJob implements JobHandler<Record<string, never>, DailyDigestResult> {
  constructor(
    private readonly orders: OrdersRepository,
    private readonly account: CurrentAccount,
    private readonly mailer: Mailer,
  ) {}

  async perform(_payload: Record<string, never>, ctx: JobContext): Promise<DailyDigestResult> {
    const orders = await this.orders.createdInLast(24);
    await this.mailer.send(dailyDigestMail(this.account.id, orders));
    ctx.logger.log(
      `Mailed the daily digest of account ${ctx.accountId}: ${orders.length} order(s)`,
    );
    return { orders: orders.length, confirmed: confirmedCount(orders) };
  }
}
