/**
 * The startup check of the jobs schema (runMigrations: false, the default): an app whose database lacks
 * the library's migrations, is behind them, or was migrated by a newer version stops at init with a
 * JobsSchemaError that says how to fix it; a migrated database starts.
 */
import { Test } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { DataSource } from 'typeorm';
import {
  JobQueueService,
  JobsError,
  JobsModule,
  JobsSchemaError,
  jobsMigrations,
} from 'nestjs-tenant-jobs';
import { createTestDatabase, TestDatabase, withClient } from './support/database';
import { JOBS_MIGRATION_NAMES } from './support/migration-names';

/** An app as the README's Quick start builds it: the DataSource runs jobsMigrations, the module checks. */
async function startApp(url: string) {
  const moduleRef = await Test.createTestingModule({
    imports: [
      ClsModule.forRoot({ global: true }),
      TypeOrmModule.forRoot({ type: 'postgres', url, migrations: [...jobsMigrations] }),
      JobsModule.forRoot({ worker: { enabled: false } }),
    ],
  }).compile();
  try {
    await moduleRef.init();
  } catch (error) {
    await moduleRef.close().catch(() => undefined);
    throw error;
  }
  return moduleRef;
}

/** Runs the first `count` of the library's migrations with TypeORM, as the CLI would. */
async function migrate(url: string, count = jobsMigrations.length): Promise<void> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations: jobsMigrations.slice(0, count),
  });
  await dataSource.initialize();
  try {
    await dataSource.runMigrations({ transaction: 'each' });
  } finally {
    await dataSource.destroy();
  }
}

async function startupError(url: string): Promise<JobsSchemaError> {
  const error: unknown = await startApp(url).then(
    async (app) => {
      await app.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JobsSchemaError);
  expect(error).toBeInstanceOf(JobsError);
  return error as JobsSchemaError;
}

describe('startup checks of the jobs schema', () => {
  let db: TestDatabase;

  beforeEach(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    await db.drop();
  });

  it('stops an app whose database never ran the migrations, saying to add jobsMigrations or set runMigrations: true', async () => {
    const error = await startupError(db.url);
    expect(error.problem).toBe('missing');
    expect(error.items).toEqual([
      'jobs',
      'workers',
      'recurring_executions',
      'paused',
      'flow_windows',
    ]);
    expect(error.message).toContain('jobs.workers');
    expect(error.message).toContain('jobsMigrations');
    expect(error.message).toContain('runMigrations: true');
  });

  it('stops an app whose database is behind the migrations of this version, naming them', async () => {
    await migrate(db.url, 1);
    const error = await startupError(db.url);
    expect(error.problem).toBe('behind');
    expect(error.items).toEqual(JOBS_MIGRATION_NAMES.slice(1));
    expect(error.message).toContain('HotPathIndexes1763900000000');
    expect(error.message).toContain('jobsMigrations');
    expect(error.message).toContain('runMigrations: true');
  });

  it('starts on a migrated database, and stops once a newer version has added a table', async () => {
    await migrate(db.url);
    const app = await startApp(db.url);
    try {
      await expect(app.get(JobQueueService).find('1')).resolves.toBeNull();
    } finally {
      await app.close();
    }

    await withClient(db.url, (c) =>
      c.query('create table jobs.flow_limits (key text primary key)'),
    );
    const error = await startupError(db.url);
    expect(error.problem).toBe('newer');
    expect(error.items).toEqual(['flow_limits']);
    expect(error.message).toContain('jobs.flow_limits');
    expect(error.message).toContain('newer version');
  });
});
