import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * The table of paused queues and accounts (`JobFlowControl`): one row per pause, `kind` `'queue'` (the
 * key is a queue name) or `'account'` (an account id). A row here survives restarts, so a paused queue
 * stays paused until someone resumes it. Workers read the whole table (a handful of rows) once per poll
 * interval and on a NOTIFY, and pass it to their claims: the claim never joins it per job.
 *
 * Idempotent like every migration here.
 */
export function pausedTableMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class PausedTable implements MigrationInterface {
    name = `PausedTable${suffix(schema)}1796139000000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`
        create table if not exists ${s}.paused (
          kind      text        not null check (kind in ('queue', 'account')),
          key       text        not null,
          paused_at timestamptz not null default now(),
          primary key (kind, key)
        )`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`drop table if exists ${s}.paused`);
    }
  };
}
