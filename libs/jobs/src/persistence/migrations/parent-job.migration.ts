import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * `parent_id`: the job that was running when this one was enqueued (`performLater` inside a job's
 * `perform`), so the dashboard's job page links a job to the jobs it enqueued and back. Nullable, no
 * default, no foreign key: retention deletes a parent long before its children may be, and a foreign
 * key would add a look-up to every enqueue.
 *
 * The index holds only rows that have a parent (`where parent_id is not null`), keyed (parent_id, id)
 * for the job page's "children, newest first, 50 at a time". Jobs enqueued outside a job never enter
 * it, and `parent_id` never changes after the insert, so no later write touches it.
 *
 * Adding a nullable column without a default is a catalog change only (no table rewrite); the index
 * build reads the table once (about a second per million rows) while writes wait. Idempotent, like
 * every migration here.
 */
export function parentJobMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class ParentJob implements MigrationInterface {
    name = `ParentJob${suffix(schema)}1796153600000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`alter table ${s}.jobs add column if not exists parent_id bigint`);
      await q.query(`
        create index if not exists jobs_parent_idx on ${s}.jobs (parent_id, id)
        where parent_id is not null`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_parent_idx`);
      await q.query(`alter table ${s}.jobs drop column if exists parent_id`);
    }
  };
}
