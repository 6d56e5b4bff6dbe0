import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * Two columns that let a rescue tell the jobs a dead worker had started from those it only held in its
 * buffer (issue 13, finding 4), so a crash costs an attempt only of the jobs that ran:
 *
 * - `started_attempt`: the attempt the worker recorded as started (lazily, with its next heartbeat;
 *   before the attempt for a job already returned unstarted once). A rescue charges the
 *   attempt only when it equals `attempts`; every transition that gives an attempt back clears it.
 * - `unstarted_rescues`: how many times a rescue gave the job back without counting the attempt. A job
 *   returned this way once has its start recorded before it performs from then on, and one returned
 *   `UNSTARTED_RESCUE_LIMIT` times fails, so nothing can loop forever.
 *
 * It first also built a partial index, `jobs_unstarted_rescued_idx`, for a look-up the worker no longer
 * makes (every claim returns `unstarted_rescues`); DropUnstartedRescuedIndex drops it where it was built,
 * and this migration no longer builds it: with `runMigrations: true` every `up` runs again at each
 * startup, and building an index only to drop it would scan the whole table (under a write lock) at
 * every start.
 *
 * `add column` with a constant default does not rewrite the table (PostgreSQL 11+). Idempotent like every
 * migration here.
 */
export function startMarksMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class StartMarks implements MigrationInterface {
    name = `StartMarks${suffix(schema)}1796146200000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`alter table ${s}.jobs add column if not exists started_attempt integer`);
      await q.query(
        `alter table ${s}.jobs add column if not exists unstarted_rescues integer not null default 0`,
      );
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_unstarted_rescued_idx`);
      await q.query(`alter table ${s}.jobs drop column if exists unstarted_rescues`);
      await q.query(`alter table ${s}.jobs drop column if exists started_attempt`);
    }
  };
}
