import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * Drops `jobs_unstarted_rescued_idx` (made by StartMarks), which nothing reads: the worker was to look its
 * claimed ids up in it after each claim, but every claim now returns `unstarted_rescues` with the rows
 * (`sql/claim.sql.ts`, `sql/fair-claim.sql.ts`), and no statement filters on `unstarted_rescues > 0`
 * (checked by grep and by EXPLAIN of the claims, the rescue, the heartbeat and the start marks: issue 16).
 * An index nothing reads still costs every write that touches its columns: each insert and each update
 * of `state` or `unstarted_rescues` evaluates its predicate, and a rescued row gets an entry.
 *
 * StartMarks no longer builds it (so a startup that runs every `up` again does not build it to drop it
 * here); `down` builds it again, as StartMarks first did (in the migration's transaction, like the other
 * index migrations: on a large table a short write lock on `jobs`). Idempotent like every migration here.
 */
export function dropUnstartedRescuedIndexMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class DropUnstartedRescuedIndex implements MigrationInterface {
    name = `DropUnstartedRescuedIndex${suffix(schema)}1796160800000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_unstarted_rescued_idx`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`
        create index if not exists jobs_unstarted_rescued_idx on ${s}.jobs (id)
        where unstarted_rescues > 0 and state in ('available', 'running')`);
    }
  };
}
