import type { MigrationInterface, QueryRunner } from 'typeorm';

export class CreateAccounts1763900000000 implements MigrationInterface {
  name = 'CreateAccounts1763900000000';

  async up(q: QueryRunner): Promise<void> {
    await q.query(`
      create table accounts (
        id         uuid        primary key default gen_random_uuid(),
        name       text        not null,
        active     boolean     not null default true,
        created_at timestamptz not null default now()
      )`);
  }

  async down(q: QueryRunner): Promise<void> {
    await q.query(`drop table accounts`);
  }
}
