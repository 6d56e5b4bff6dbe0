import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * Two indexes of the first version replaced, for the worker's hot path.
 *
 * Completions, failures and heartbeats find their rows by id and check `state = 'running'` as a fence.
 * Statistics usually say almost no job is running, so PostgreSQL would rather answer that check from any
 * index that covers `state`, and then walk all of it:
 *
 * - `jobs_lease_idx (locked_until) where state = 'running'` kept the entries of every finished job as
 *   dead tuples until VACUUM; a 500-job completion batch walked all of them (60 µs a job instead of 9 on a
 *   20,000-job drain). It becomes `jobs_locked_until_idx (locked_until) where locked_until is not null`:
 *   the same rows (only running jobs hold a lease), for the rescuer's `locked_until < now()`.
 * - `jobs_account_idx (account_id, state)` covered every row, so every enqueue, claim and completion
 *   wrote an entry into it (about 15% of an enqueue's cost), and the planner could scan all of it for
 *   `state = 'running'`. It becomes `jobs_failed_account_idx (account_id, id) where state = 'failed'`,
 *   which is what the library looks accounts up for (`listFailed({ accountId })`, newest first) and
 *   which the hot path never touches. An app that queries an account's jobs in other ways adds its own
 *   index in its own migration.
 *
 * The old indexes are dropped first, so on a database that has them the migration takes the table's
 * exclusive lock at once instead of upgrading a weaker one (an upgrade could deadlock with the workers of
 * replicas still running). Idempotent like every migration here: it also runs at startup with
 * `runMigrations: true`; on a database made by this version there is nothing to drop, as CreateJobsTables
 * no longer makes the old indexes.
 */
export function hotPathIndexesMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class HotPathIndexes implements MigrationInterface {
    name = `HotPathIndexes${suffix(schema)}1763900000000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_lease_idx`);
      await q.query(`drop index if exists ${s}.jobs_account_idx`);
      await q.query(`
        create index if not exists jobs_locked_until_idx on ${s}.jobs (locked_until)
        where locked_until is not null`);
      await q.query(`
        create index if not exists jobs_failed_account_idx on ${s}.jobs (account_id, id)
        where state = 'failed'`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_locked_until_idx`);
      await q.query(`drop index if exists ${s}.jobs_failed_account_idx`);
      await q.query(`
        create index if not exists jobs_lease_idx on ${s}.jobs (locked_until) where state = 'running'`);
      await q.query(`create index if not exists jobs_account_idx on ${s}.jobs (account_id, state)`);
    }
  };
}
