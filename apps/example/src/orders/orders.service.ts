import { Injectable } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { JobQueueService } from 'nestjs-tenant-jobs';
import { AuditService } from '../audit/audit.service';
import { randomUUID } from 'node:crypto';
import { CreateOrderDto } from './dto/create-order.dto';
import { ImportOrdersDto } from './dto/import-orders.dto';
import { ConfirmOrderJob } from './jobs/confirm-order.job';
import { DeleteOrderJob } from './jobs/delete-order.job';
import { ImportOrderRowJob } from './jobs/import-order-row.job';
import { Order } from './order.entity';
import { OrdersRepository } from './orders.repository';

/** Order use cases. Every job is enqueued in the same transaction as the write it follows up on. */
@Injectable()
export class OrdersService {
  constructor(
    @InjectDataSource() private readonly dataSource: DataSource,
    private readonly orders: OrdersRepository,
    private readonly audit: AuditService,
    private readonly jobs: JobQueueService,
  ) {}

  /** Creates an order and enqueues its confirmation (visible to workers once the order is committed). */
  place(dto: CreateOrderDto): Promise<{ order: Order; jobId: string }> {
    return this.dataSource.transaction(async (manager) => {
      const order = await this.orders.create(dto, manager);
      const jobId = await this.jobs.performLater(
        ConfirmOrderJob,
        { orderId: order.id },
        { manager },
      );
      return { order, jobId };
    });
  }

  /**
   * Enqueues one job per imported row, in the current account, 1,000 rows a statement. Returns at once;
   * the rows are written in the background, while other accounts' jobs keep starting (fair claims).
   */
  async import({
    count,
    item,
    email,
  }: ImportOrdersDto): Promise<{ importId: string; rows: number }> {
    const importId = randomUUID();
    for (let from = 0; from < count; from += 1_000) {
      const rows = Array.from({ length: Math.min(1_000, count - from) }, (_, i) => from + i);
      await this.jobs.performAllLater(
        ImportOrderRowJob,
        rows.map((row) => ({ payload: { importId, row, item, email } })),
      );
    }
    return { importId, rows: count };
  }

  find(id: string): Promise<Order | null> {
    return this.orders.findOne(id);
  }

  /**
   * Enqueues a confirmation without looking the order up first: the job itself only ever sees the
   * current account's orders, so an id from another account is simply skipped when the job runs.
   */
  requestConfirmation(orderId: string): Promise<string> {
    return this.jobs.performLater(ConfirmOrderJob, { orderId });
  }

  /**
   * Records the deletion request in the audit log now and deletes the order in the background. Returns
   * the job id, or `null` when the current account has no such order.
   */
  requestDeletion(orderId: string): Promise<string | null> {
    return this.dataSource.transaction(async (manager) => {
      if (!(await this.orders.findOne(orderId, { manager }))) return null;
      await this.audit.record('order.deletion-requested', orderId, manager);
      return this.jobs.performLater(DeleteOrderJob, { orderId }, { manager });
    });
  }
}
