import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * Indexes for the dashboard's job list (newest first, keyset-paginated on id) filtered by account or by
 * job name, on a table of millions of finished jobs.
 *
 * Both are partial, over finished rows only: the hot path never writes them on enqueue or claim, only
 * once per job when it finishes (a completion is never a HOT update, as `state` is indexed, so it already
 * writes the primary key's and jobs_finished_idx's entries; this adds two more). The few unfinished rows
 * are found through the claim index (available) and jobs_locked_until_idx (running), and the dashboard
 * queries each part on its own (see `persistence/sql/dashboard.sql.ts`). Without them a filter on an
 * account or a name that matches few rows walks the whole primary key (0.4–0.5 s on 1,000,000 rows).
 *
 * The name index holds `md5(name)`, not the name: the column has no length bound in the table (the
 * library checks job names, but a row written by other means may hold any text), and a btree entry over
 * 2,704 bytes would make that job's completion fail. The list asks for `md5(name) = md5($n) and name = $n`.
 *
 * Plain `create index` (not `concurrently`, which cannot run in a migration's transaction): on a large
 * existing table it blocks writes while it builds, about a second per million rows.
 */
export function dashboardIndexesMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class DashboardIndexes implements MigrationInterface {
    name = `DashboardIndexes${suffix(schema)}1796133600000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`
        create index if not exists jobs_history_account_idx on ${s}.jobs (account_id, id)
        where state in ('completed', 'failed', 'cancelled')`);
      await q.query(`
        create index if not exists jobs_history_name_idx on ${s}.jobs (md5(name), id)
        where state in ('completed', 'failed', 'cancelled')`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_history_account_idx`);
      await q.query(`drop index if exists ${s}.jobs_history_name_idx`);
    }
  };
}
