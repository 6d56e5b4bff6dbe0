import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Job, JobContext, JobHandler } from 'nestjs-tenant-jobs';
import { Mailer } from '../../mailer/mailer';
import { OrdersRepository } from '../orders.repository';
import { OrderJobPayload } from './order-job.payload';

export type ConfirmOrderResult =
  { confirmedAt: string } | { skipped: 'order-not-found' | 'already-confirmed' };

/**
 * Confirms an order of the current account and mails the customer. Idempotent: an order that is gone
 * (deleted before the job ran, or not one of this account's orders) or already confirmed is skipped.
 */
@Job({ name: 'orders.confirm', payload: OrderJobPayload, maxAttempts: 10 })
export class ConfirmOrderJob implements JobHandler<OrderJobPayload, ConfirmOrderResult> {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly orders: OrdersRepository,
    private readonly mailer: Mailer,
  ) {}

  perform({ orderId }: OrderJobPayload, ctx: JobContext): Promise<ConfirmOrderResult> {
    // The row stays locked until the mail is sent: concurrent confirmations of one order send one mail,
    // and a failed send rolls confirmedAt back so the retry sends it again.
    return this.dataSource.transaction(async (manager) => {
      const order = await this.orders.findOne(orderId, { manager, lock: true });
      if (!order) {
        ctx.logger.log(
          `Order ${orderId} not found in account ${ctx.accountId}; nothing to confirm`,
        );
        return { skipped: 'order-not-found' };
      }
      if (order.confirmedAt) return { skipped: 'already-confirmed' };
      order.confirmedAt = new Date();
      await this.orders.save(order, manager);
      await this.mailer.send({
        to: order.email,
        subject: `Order ${order.id} confirmed`,
        text: `Thank you! We received your order of ${order.quantity} x ${order.item}.`,
      });
      return { confirmedAt: order.confirmedAt.toISOString() };
    });
  }
}
