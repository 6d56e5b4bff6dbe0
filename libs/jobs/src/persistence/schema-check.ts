import type { DataSource, MigrationInterface } from 'typeorm';
import { JobsSchemaError } from '../errors';
import type { JobsDatabase } from './jobs-database';
import { createJobsMigrations, JOBS_TABLES } from './migrations';

/**
 * The startup check of the jobs schema, run instead of the migrations when `runMigrations` is false, so
 * that an app that forgot them stops with an error saying what to do instead of failing later with a
 * raw `relation "jobs.workers" does not exist` (or worse, while enqueueing in production):
 *
 * 1. every table of the library's migrations exists, else `missing`;
 * 2. when the DataSource runs the library's migrations itself (some of them are in its `migrations`),
 *    every one of this version's is recorded in its migrations table, else `behind` (the app upgraded
 *    the package but not the database). An app that applied them another way (`runMigrations: true`
 *    before) has nothing recorded there and is judged by its tables alone;
 * 3. no table in the schema is unknown to this version, else `newer`: a newer version of the library
 *    migrated the database, and this one could misread what it wrote.
 *
 * A few catalogue queries on the app's pool, once per process.
 */
export async function checkJobsSchema(db: JobsDatabase, schema: string): Promise<void> {
  const tables = await db.query<{ name: string }>(
    `select c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
     where n.nspname = $1 and c.relkind in ('r', 'p')`,
    [schema],
  );
  const present = new Set(tables.map((t) => t.name));
  const missing = JOBS_TABLES.filter((table) => !present.has(table));
  const behind = await unrecordedMigrations(db, schema);
  // A table a later migration creates is missing from a database that is only behind (some of the
  // migrations recorded, not all): "behind" names what to run; "missing" is for one never migrated.
  const partlyMigrated = behind.length > 0 && behind.length < createJobsMigrations(schema).length;
  if (missing.length > 0 && !partlyMigrated) {
    throw new JobsSchemaError(
      'missing',
      schema,
      missing,
      `The jobs schema "${schema}" lacks the table(s) ${list(missing.map((t) => `${schema}.${t}`))}: ` +
        `the migrations of nestjs-tenant-jobs have not run on this database. ${HOW_TO_MIGRATE(schema)}`,
    );
  }

  if (behind.length > 0) {
    throw new JobsSchemaError(
      'behind',
      schema,
      behind,
      `The jobs schema "${schema}" is behind this version of nestjs-tenant-jobs: its migration(s) ` +
        `${list(behind)} have not run. ${HOW_TO_MIGRATE(schema)}`,
    );
  }

  const unknown = [...present].filter((table) => !JOBS_TABLES.includes(table)).sort();
  if (unknown.length > 0) {
    throw new JobsSchemaError(
      'newer',
      schema,
      unknown,
      `The jobs schema "${schema}" has table(s) ${list(unknown.map((t) => `${schema}.${t}`))} that this ` +
        `version of nestjs-tenant-jobs does not know: a newer version of the library migrated this ` +
        `database. Run that version in this app too (every process on the database should), or revert ` +
        `its migrations with that version's TypeORM CLI (migration:revert) before starting this one.`,
    );
  }
}

/** Names of this version's migrations the DataSource runs but has not recorded as run. */
async function unrecordedMigrations(db: JobsDatabase, schema: string): Promise<string[]> {
  const ours = createJobsMigrations(schema).map((Migration) => nameOf(new Migration()));
  const configured = new Set(db.dataSource.migrations.map(nameOf));
  if (!ours.some((name) => configured.has(name))) return [];
  const table = migrationsTable(db.dataSource);
  const [{ exists }] = await db.query<{ exists: boolean }>(
    `select to_regclass($1) is not null as exists`,
    [table],
  );
  if (!exists) return ours;
  const recorded = await db.query<{ name: string }>(`select name from ${table}`, []);
  const done = new Set(recorded.map((r) => r.name));
  return ours.filter((name) => !done.has(name));
}

/** TypeORM's migrations table, qualified as TypeORM creates it (in the DataSource's schema, if any). */
function migrationsTable(dataSource: DataSource): string {
  const options = dataSource.options as { migrationsTableName?: string; schema?: string };
  const table = `"${(options.migrationsTableName ?? 'migrations').replace(/"/g, '""')}"`;
  return options.schema ? `"${options.schema.replace(/"/g, '""')}".${table}` : table;
}

function nameOf(migration: MigrationInterface): string {
  return migration.name ?? migration.constructor.name;
}

const list = (items: string[]) => items.join(', ');

const HOW_TO_MIGRATE = (schema: string) =>
  `Add ${schema === 'jobs' ? 'jobsMigrations' : `createJobsMigrations('${schema}')`} to your DataSource's ` +
  `migrations and run them (e.g. npx typeorm migration:run -d <your data source>), or set ` +
  `runMigrations: true in JobsModule.forRoot(...) to apply them at startup.`;
