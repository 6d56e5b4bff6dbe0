import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * Indexes no worker statement can be tempted by. Completions, failures and heartbeats find their rows by
 * id and check `state = 'running'` as a fence. Statistics usually say almost no job is running, so
 * PostgreSQL would rather answer that check from any index that covers `state`, and then walk all of it:
 *
 * - `jobs_lease_idx (locked_until) where state = 'running'` kept the entries of every finished job as
 *   dead tuples until VACUUM; a 500-job completion batch walked all of them (60 µs a job instead of 9 on a
 *   20,000-job drain). It becomes `jobs_locked_until_idx (locked_until) where locked_until is not null`:
 *   the same rows (only running jobs hold a lease), for the rescuer's `locked_until < now()`.
 * - `jobs_account_idx (account_id, state)` let the planner scan the whole index for `state = 'running'`.
 *   It becomes `jobs_account_state_idx (account_id, state) where state <> 'running'`: an account's jobs by
 *   state for every state but running, which the worker's fence cannot use, and which a claim no longer
 *   has to update.
 *
 * The old indexes are dropped first, so on a database that has them the migration takes the table's
 * exclusive lock at once instead of upgrading a weaker one (an upgrade could deadlock with the workers of
 * replicas still running). Idempotent like every migration here: it also runs at startup with
 * `runMigrations: true`; on a database made by this version there is nothing to drop, as CreateJobsTables
 * no longer makes the old indexes.
 */
export function workerPlanIndexesMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class WorkerPlanIndexes implements MigrationInterface {
    name = `WorkerPlanIndexes${suffix(schema)}1763900000000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_lease_idx`);
      await q.query(`drop index if exists ${s}.jobs_account_idx`);
      await q.query(`
        create index if not exists jobs_locked_until_idx on ${s}.jobs (locked_until)
        where locked_until is not null`);
      await q.query(`
        create index if not exists jobs_account_state_idx on ${s}.jobs (account_id, state)
        where state <> 'running'`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_locked_until_idx`);
      await q.query(`drop index if exists ${s}.jobs_account_state_idx`);
      await q.query(`
        create index if not exists jobs_lease_idx on ${s}.jobs (locked_until) where state = 'running'`);
      await q.query(`create index if not exists jobs_account_idx on ${s}.jobs (account_id, state)`);
    }
  };
}
