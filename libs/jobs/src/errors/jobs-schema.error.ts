import { JobsError } from './jobs.error';

/**
 * What is wrong with the jobs schema: `missing` (its tables are not there), `behind` (a migration of
 * this version has not run), `newer` (a newer version of the library migrated the database).
 */
export type JobsSchemaProblem = 'missing' | 'behind' | 'newer';

/**
 * Thrown at startup (with `runMigrations: false`, the default) when the database does not hold the
 * schema this version of the library needs. The message says how to fix it: run `jobsMigrations` with
 * the app's migrations, or set `runMigrations: true`; or, for `newer`, run the newer version.
 */
export class JobsSchemaError extends JobsError {
  constructor(
    /** What is wrong. */
    readonly problem: JobsSchemaProblem,
    /** The PostgreSQL schema checked (the `schema` option). */
    readonly schema: string,
    /** The tables or migrations at fault. */
    readonly items: string[],
    message: string,
  ) {
    super(message);
  }
}
