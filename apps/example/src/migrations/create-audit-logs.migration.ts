import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAuditLogs1763900002000 implements MigrationInterface {
  name = 'CreateAuditLogs1763900002000';

  async up(q: QueryRunner): Promise<void> {
    // No foreign key to orders: the log outlives the order it describes.
    await q.query(`
      create table audit_logs (
        id         bigint      generated always as identity primary key,
        account_id uuid        not null references accounts (id),
        action     text        not null,
        order_id   uuid        not null,
        created_at timestamptz not null default now()
      )`);
    await q.query(`create index audit_logs_account_idx on audit_logs (account_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table audit_logs`);
  }
}
