import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateOrders1763900001000 implements MigrationInterface {
  name = 'CreateOrders1763900001000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table orders (
        id           uuid        primary key default gen_random_uuid(),
        account_id   uuid        not null references accounts (id),
        item         text        not null,
        quantity     integer     not null check (quantity > 0),
        email        text        not null,
        confirmed_at timestamptz,
        created_at   timestamptz not null default now()
      )`);
    await q.query(`create index orders_account_idx on orders (account_id, created_at)`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table orders`);
  }
}
