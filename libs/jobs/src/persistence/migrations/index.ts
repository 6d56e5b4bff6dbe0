import type { MigrationInterface } from 'typeorm';
import { createJobsTablesMigration } from './create-jobs-tables.migration';
import { hotPathIndexesMigration } from './hot-path-indexes.migration';

/**
 * The library's migrations for a schema, in order. Add them to your DataSource's `migrations`
 * (`migrations: [...jobsMigrations, ...yours]`) or set `runMigrations: true`.
 */
export function createJobsMigrations(schema = 'jobs'): Array<new () => MigrationInterface> {
  return [createJobsTablesMigration(schema), hotPathIndexesMigration(schema)];
}

/** The library's migrations for the default `jobs` schema, in order. */
export const jobsMigrations = createJobsMigrations('jobs');
