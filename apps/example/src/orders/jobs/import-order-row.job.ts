import { createHash } from 'node:crypto';
import { IsEmail, IsInt, IsString, IsUUID, MaxLength, Min } from 'class-validator';
import { Job, JobHandler } from 'nestjs-tenant-jobs';
import { StorableText } from '../../validation/storable-text';
import { OrdersRepository } from '../orders.repository';

/** One row of an import: which import, which row, and the row's fields. */
export class ImportOrderRowPayload {
  @IsUUID() importId: string;
  @IsInt() @Min(0) row: number;
  @IsString() @MaxLength(200) @StorableText() item: string;
  @IsEmail() email: string;
}

/**
 * Writes one imported order in the current account. Idempotent: the order's id is derived from the
 * import and the row, so a retried or rescued row (delivery is at-least-once) writes nothing twice.
 * Many of these jobs from one account do not hold up other accounts' order confirmations: the worker
 * shares its claims between the accounts with runnable jobs (the library's default fairness).
 */
@Job({ name: 'orders.import-row', payload: ImportOrderRowPayload, maxAttempts: 5 })
export class ImportOrderRowJob implements JobHandler<ImportOrderRowPayload> {
  constructor(private readonly orders: OrdersRepository) {}

  async perform({ importId, row, item, email }: ImportOrderRowPayload): Promise<void> {
    await this.orders.createIfAbsent(importedOrderId(importId, row), { item, quantity: 1, email });
  }
}

/** A stable uuid-shaped id for row `row` of import `importId`. */
export function importedOrderId(importId: string, row: number): string {
  const h = createHash('sha256').update(`${importId}:${row}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}
