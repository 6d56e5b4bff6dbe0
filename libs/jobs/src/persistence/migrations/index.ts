import type { MigrationInterface } from 'typeorm';
import { createJobsTablesMigration } from './create-jobs-tables.migration';
import { hotPathIndexesMigration } from './hot-path-indexes.migration';
import { fairClaimIndexMigration } from './fair-claim-index.migration';
import { dashboardIndexesMigration } from './dashboard-indexes.migration';
import { pausedTableMigration } from './paused-table.migration';
import { observabilityColumnsMigration } from './observability-columns.migration';
import { startMarksMigration } from './start-marks.migration';
import { flowLimitsMigration } from './flow-limits.migration';
import { parentJobMigration } from './parent-job.migration';
import { dropUnstartedRescuedIndexMigration } from './drop-unstarted-rescued-index.migration';
import { payloadRulesColumnMigration } from './payload-rules-column.migration';
import { fairClaimIndexPredicateMigration } from './fair-claim-index-predicate.migration';

/**
 * The library's migrations for a schema, in order. Add them to your DataSource's `migrations`
 * (`migrations: [...jobsMigrations, ...yours]`) or set `runMigrations: true`.
 */
export function createJobsMigrations(schema = 'jobs'): Array<new () => MigrationInterface> {
  return [
    createJobsTablesMigration(schema),
    hotPathIndexesMigration(schema),
    fairClaimIndexMigration(schema),
    dashboardIndexesMigration(schema),
    pausedTableMigration(schema),
    observabilityColumnsMigration(schema),
    startMarksMigration(schema),
    flowLimitsMigration(schema),
    parentJobMigration(schema),
    payloadRulesColumnMigration(schema),
    dropUnstartedRescuedIndexMigration(schema),
    fairClaimIndexPredicateMigration(schema),
  ];
}

/**
 * Every table the migrations above create. The startup check (`schema-check.ts`) reads a table missing
 * from the schema as migrations not run, and one beyond these as a newer library's: add a migration's
 * new tables here with it.
 */
export const JOBS_TABLES: readonly string[] = [
  'jobs',
  'workers',
  'recurring_executions',
  'paused',
  'flow_windows',
];

/** The library's migrations for the default `jobs` schema, in order. */
export const jobsMigrations = createJobsMigrations('jobs');
