import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * Replaces the rescuer's index `jobs_lease_idx (locked_until) where state = 'running'` with
 * `jobs_locked_until_idx (locked_until) where locked_until is not null`: the same rows (only running jobs
 * hold a lease), but a predicate the worker's statements no longer match.
 *
 * Why: completions and heartbeats find their rows by id and also check `state = 'running'`. Once
 * statistics say few rows are running (any ANALYZE during a drain), PostgreSQL preferred the old partial
 * index for that check and walked every entry in it. Entries of finished jobs stay there as dead tuples
 * until VACUUM, so each completion batch read the whole history since the last vacuum: measured at 60 µs
 * a job instead of 9 on a 20,000-job drain. The rescuer's `locked_until < now()` still uses the new index.
 *
 * Idempotent like every migration here (it also runs at startup with `runMigrations: true`). The old
 * index is dropped first, so on a database that has it the migration takes the table's exclusive lock at
 * once instead of upgrading a weaker one (an upgrade could deadlock with workers still running). On a new
 * database there is nothing to drop: CreateJobsTables no longer makes the old index.
 */
export function leaseIndexByLockedUntilMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class LeaseIndexByLockedUntil implements MigrationInterface {
    name = `LeaseIndexByLockedUntil${suffix(schema)}1763900000000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_lease_idx`);
      await q.query(`
        create index if not exists jobs_locked_until_idx on ${s}.jobs (locked_until)
        where locked_until is not null`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`
        create index if not exists jobs_lease_idx on ${s}.jobs (locked_until) where state = 'running'`);
      await q.query(`drop index if exists ${s}.jobs_locked_until_idx`);
    }
  };
}
