import { Job, JobContext, JobHandler } from 'nestjs-tenant-jobs';
import { OrdersRepository } from '../orders.repository';
import { OrderJobPayload } from './order-job.payload';

export interface DeleteOrderResult {
  /** `false` when the order was already gone. */
  deleted: boolean;
}

/** Deletes an order of the current account. Failures are logged and re-thrown, so the job is retried. */
@Job({ name: 'orders.delete', payload: OrderJobPayload, maxAttempts: 5 })
export class DeleteOrderJob implements JobHandler<OrderJobPayload, DeleteOrderResult> {
  constructor(private readonly orders: OrdersRepository) {}

  async perform({ orderId }: OrderJobPayload, ctx: JobContext): Promise<DeleteOrderResult> {
    try {
      const deleted = await this.orders.delete(orderId);
      ctx.logger.log(deleted ? `Deleted order ${orderId}` : `Order ${orderId} was already gone`);
      return { deleted };
    } catch (error) {
      const { message, stack } = error instanceof Error ? error : new Error(String(error));
      ctx.logger.error(
        `Deleting order ${orderId} failed (attempt ${ctx.attempt}/${ctx.maxAttempts}): ${message}`,
        stack,
      );
      throw error;
    }
  }
}
