import type { MigrationInterface, QueryRunner } from 'typeorm';

export class AddOrdersInvoicedAt1795359725901 implements MigrationInterface {
  name = 'AddOrdersInvoicedAt1795359725901';

  async up(q: QueryRunner): Promise<void> {
    // Null until the invoice mail is sent (invoices.send-pending). Existing confirmed orders start
    // uninvoiced, so the first tick mails their invoices (backfill `invoiced_at = confirmed_at` here
    // instead if they had been invoiced some other way).
    await q.query(`alter table orders add column invoiced_at timestamptz`);
    // What invoices.send-pending looks for, every 10 minutes, in each account.
    await q.query(`
      create index orders_uninvoiced_idx on orders (account_id, confirmed_at)
      where confirmed_at is not null and invoiced_at is null`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop index orders_uninvoiced_idx`);
    await q.query(`alter table orders drop column invoiced_at`);
  }
}
