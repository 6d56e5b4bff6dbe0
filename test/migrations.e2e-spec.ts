import { Injectable } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { DataSource, MigrationInterface } from 'typeorm';
import {
  createJobsMigrations,
  Job,
  JobHandler,
  JobQueueService,
  jobsMigrations,
} from 'nestjs-tenant-jobs';
import {
  createTestDatabase,
  schemaExists,
  tablesOf,
  TestDatabase,
  withClient,
} from './support/database';
import { waitFor } from './support/wait-for';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';
import { JOBS_MIGRATION_NAMES } from './support/migration-names';

const MIGRATIONS_TABLE = 'app_migrations';
const ALL = JOBS_MIGRATION_NAMES;
/** A migration's name for another schema: the schema's suffix goes before the timestamp. */
const inSchema = (name: string, suffix: string) =>
  `${name.slice(0, -13)}${suffix}${name.slice(-13)}`;

@Injectable()
@Job({ name: 'migrations.ping', tenant: 'none' })
class PingJob implements JobHandler<{ n: number }, number> {
  perform(payload: { n: number }): number {
    return payload.n;
  }
}

async function indexesOf(url: string, schema: string): Promise<Map<string, string>> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ name: string; def: string }>(
      `select indexname as name, indexdef as def from pg_indexes
       where schemaname = $1 and tablename = 'jobs'`,
      [schema],
    );
    return new Map(rows.map((r) => [r.name, r.def]));
  });
}

/** The columns of `jobs.jobs`, in name order. */
async function jobsColumns(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ name: string }>(
      `select column_name as name from information_schema.columns
       where table_schema = 'jobs' and table_name = 'jobs' order by 1`,
    );
    return rows.map((r) => r.name);
  });
}

async function recordedMigrations(url: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ name: string }>(
      `select name from ${MIGRATIONS_TABLE} order by id`,
    );
    return rows.map((r) => r.name);
  });
}

/** The DataSource a user's migration CLI would use, with the library's migrations in it. */
async function migrationDataSource(url: string, migrations = jobsMigrations): Promise<DataSource> {
  const dataSource = new DataSource({
    type: 'postgres',
    url,
    migrations,
    migrationsTableName: MIGRATIONS_TABLE,
    logging: false,
  });
  return dataSource.initialize();
}

/** The `name` TypeORM records for a migration class. */
function nameOf(Migration: new () => MigrationInterface): string {
  return String(new Migration().name);
}

describe('migration names', () => {
  it('end with a 13-digit timestamp (required by TypeORM), for every schema', () => {
    for (const migrations of [
      jobsMigrations,
      createJobsMigrations(),
      createJobsMigrations('my_jobs'),
    ]) {
      expect(migrations.length).toBeGreaterThan(0);
      for (const Migration of migrations) {
        expect(nameOf(Migration)).toMatch(/^[A-Za-z][A-Za-z0-9_]*\d{13}$/);
      }
    }
  });

  it('are stable for the default schema and distinct per schema', () => {
    expect(jobsMigrations.map(nameOf)).toEqual(ALL);
    expect(createJobsMigrations('jobs').map(nameOf)).toEqual(ALL);
    const names = ['jobs', 'my_jobs', 'myjobs', 'billing'].flatMap((schema) =>
      createJobsMigrations(schema).map(nameOf),
    );
    expect(new Set(names).size).toBe(names.length);
    expect(createJobsMigrations('my_jobs').map(nameOf)).toEqual(
      ALL.map((n) => inSchema(n, 'MyJobs')),
    );
    // Same timestamps for every schema: the order of a user's migrations is not disturbed.
    expect(new Set(names.map((n) => n.slice(-13)))).toEqual(new Set(ALL.map((n) => n.slice(-13))));
  });
});

describe('migrations run again at every startup (runMigrations: true)', () => {
  it('never build an index that a later migration drops (a scan of the table at every start)', async () => {
    const statements: string[][] = [];
    for (const Migration of jobsMigrations) {
      const issued: string[] = [];
      const runner = { query: async (sql: string) => void issued.push(sql) } as never;
      await new Migration().up(runner);
      statements.push(issued);
    }
    const indexName = (sql: string, verb: RegExp) => verb.exec(sql)?.[1];
    statements.forEach((issued, i) => {
      const built = issued.map((q) =>
        indexName(q, /create (?:unique )?index if not exists (\w+)/i),
      );
      // A later migration that drops an index and builds it again under the same name (a rebuild, as
      // FairClaimIndexPredicate does, guarded to run once) leaves the earlier `if not exists` a no-op.
      const droppedLater = statements.slice(i + 1).flatMap((later) => {
        const rebuilt = later.flatMap((q) => [
          ...q.matchAll(/create (?:unique )?index (?:if not exists )?(\w+)/gi),
        ]);
        return later
          .map((q) => indexName(q, /drop index if exists "?\w+"?\.(\w+)/i))
          .filter((name) => !rebuilt.some((m) => m[1] === name));
      });
      expect(built.filter((b) => b && droppedLater.includes(b))).toEqual([]);
    });
  });
});

describe('jobsMigrations through a TypeORM DataSource', () => {
  let db: TestDatabase;
  let dataSource: DataSource | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db?.drop();
  });

  it('runMigrations() creates the schema, tables and indexes', async () => {
    dataSource = await migrationDataSource(db.url);
    const applied = await dataSource.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(ALL);
    expect(await recordedMigrations(db.url)).toEqual(ALL);

    expect(await schemaExists(db.url, 'jobs')).toBe(true);
    expect(await tablesOf(db.url, 'jobs')).toEqual([
      'flow_windows',
      'jobs',
      'paused',
      'recurring_executions',
      'workers',
    ]);

    const indexes = await indexesOf(db.url, 'jobs');
    expect([...indexes.keys()].sort()).toEqual([
      'jobs_claim_idx',
      'jobs_failed_account_idx',
      'jobs_fair_claim_idx',
      'jobs_finished_idx',
      'jobs_history_account_idx',
      'jobs_history_created_idx',
      'jobs_history_name_idx',
      'jobs_limited_claim_idx',
      'jobs_limited_running_idx',
      'jobs_locked_until_idx',
      'jobs_parent_idx',
      'jobs_pkey',
      'jobs_unique_key_idx',
      'jobs_unlimited_claim_idx',
    ]);
    // Children by parent, newest first: only jobs that have a parent.
    expect(indexes.get('jobs_parent_idx')).toMatch(
      /^CREATE INDEX jobs_parent_idx ON jobs\.jobs USING btree \(parent_id, id\) WHERE \(parent_id IS NOT NULL\)$/,
    );
    // The claim index covers only runnable rows, in claim order.
    expect(indexes.get('jobs_claim_idx')).toMatch(
      /^CREATE INDEX jobs_claim_idx ON jobs\.jobs USING btree \(priority, run_at, id\) WHERE \(state = 'available'::text\)$/,
    );
    // The fair claim's skip scan: runnable rows by priority, queue and account (global jobs as ''), in
    // byte order, then in claim order. Its predicate is written with `collate "C"` so that only the fair
    // claim's lane scans can prove it (FairClaimIndexPredicate).
    expect(indexes.get('jobs_fair_claim_idx')).toMatch(
      /^CREATE INDEX jobs_fair_claim_idx ON jobs\.jobs USING btree \(priority, queue, COALESCE\(account_id, ''::text\) COLLATE "C", run_at, id\) WHERE \(\(state COLLATE "C"\) = 'available'::text\)$/,
    );
    // One unfinished job per unique key.
    const unique = indexes.get('jobs_unique_key_idx')!;
    expect(unique).toMatch(
      /^CREATE UNIQUE INDEX jobs_unique_key_idx ON jobs\.jobs USING btree \(unique_key\) WHERE/,
    );
    expect(unique).toContain('unique_key IS NOT NULL');
    expect(unique).toMatch(/'available'::text, 'running'::text/);
    // Nothing the worker's fence (`state = 'running'`) could be answered from, and nothing the hot path
    // writes but what it reads: the rescuer's index on leased rows, failed jobs by account.
    expect(indexes.get('jobs_locked_until_idx')).toMatch(
      /^CREATE INDEX jobs_locked_until_idx ON jobs\.jobs USING btree \(locked_until\) WHERE \(locked_until IS NOT NULL\)$/,
    );
    expect(indexes.get('jobs_failed_account_idx')).toMatch(
      /^CREATE INDEX jobs_failed_account_idx ON jobs\.jobs USING btree \(account_id, id\) WHERE \(state = 'failed'::text\)$/,
    );
  });

  it('lets the unique key be reused once the job holding it has finished', async () => {
    await withClient(db.url, async (c) => {
      await c.query(`insert into jobs.jobs (name, unique_key) values ('x', 'k')`);
      await expect(
        c.query(`insert into jobs.jobs (name, unique_key) values ('x', 'k')`),
      ).rejects.toMatchObject({ code: '23505', constraint: 'jobs_unique_key_idx' });
      await c.query(`update jobs.jobs set state = 'completed' where unique_key = 'k'`);
      await c.query(`insert into jobs.jobs (name, unique_key) values ('x', 'k')`);
      // Keyless jobs are never deduplicated.
      await c.query(`insert into jobs.jobs (name) values ('x'), ('x')`);
      const { rows } = await c.query<{ n: string }>('select count(*) as n from jobs.jobs');
      expect(Number(rows[0].n)).toBe(4);
      await c.query('truncate jobs.jobs');
    });
  });

  it('a second runMigrations() is a no-op', async () => {
    await expect(dataSource!.runMigrations()).resolves.toEqual([]);
    expect(await recordedMigrations(db.url)).toEqual(ALL);
  });

  it('an app with runMigrations: true starts on the migrated database and works', async () => {
    const fairIndex = () =>
      withClient(db.url, async (c) => {
        const { rows } = await c.query<{ oid: number }>(
          `select 'jobs.jobs_fair_claim_idx'::regclass::oid as oid`,
        );
        return rows[0].oid;
      });
    const before = await fairIndex();
    const app = await createJobsApp({ url: db.url, providers: [PingJob] });
    // Startup runs every migration's up again: none rebuilds an index that is already right.
    expect(await fairIndex()).toBe(before);
    try {
      const jobs = app.get(JobQueueService);
      const id = await jobs.performLater(PingJob, { n: 7 });
      const job = await waitForJobState(jobs, id, 'completed');
      expect(job.result).toBe(7);
    } finally {
      await app.close();
    }
    // Startup migrations do not touch the app's migrations table.
    expect(await recordedMigrations(db.url)).toEqual(ALL);
  });

  it("undoing FairClaimIndexPredicate brings the fair claim index's first predicate back", async () => {
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual(ALL.slice(0, 11));
    expect((await indexesOf(db.url, 'jobs')).get('jobs_fair_claim_idx')).toMatch(
      /^CREATE INDEX jobs_fair_claim_idx ON jobs\.jobs USING btree \(priority, queue, COALESCE\(account_id, ''::text\) COLLATE "C", run_at, id\) WHERE \(state = 'available'::text\)$/,
    );
  });

  it('undoing DropUnstartedRescuedIndex builds the index StartMarks made again', async () => {
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual(ALL.slice(0, 10));
    expect((await indexesOf(db.url, 'jobs')).get('jobs_unstarted_rescued_idx')).toMatch(
      /^CREATE INDEX jobs_unstarted_rescued_idx ON jobs\.jobs USING btree \(id\) WHERE \(\(unstarted_rescues > 0\) AND/,
    );
  });

  it('undoing PayloadRulesColumn drops its column', async () => {
    const columns = async () => (await jobsColumns(db.url)).filter((c) => c === 'payload_rules');
    expect(await columns()).toEqual(['payload_rules']);
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual(ALL.slice(0, 9));
    expect(await columns()).toEqual([]);
  });

  it('undoing ParentJob drops its column and its two indexes', async () => {
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual(ALL.slice(0, 8));
    const indexes = await indexesOf(db.url, 'jobs');
    expect(indexes.has('jobs_parent_idx')).toBe(false);
    expect(indexes.has('jobs_history_created_idx')).toBe(false);
    const columns = await jobsColumns(db.url);
    expect(columns).not.toContain('parent_id');
  });

  it('undoing FlowLimits drops its columns, its indexes and the flow_windows table', async () => {
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual(ALL.slice(0, 7));
    const indexes = await indexesOf(db.url, 'jobs');
    for (const index of [
      'jobs_limited_claim_idx',
      'jobs_unlimited_claim_idx',
      'jobs_limited_running_idx',
    ]) {
      expect(indexes.has(index)).toBe(false);
    }
    expect(await tablesOf(db.url, 'jobs')).not.toContain('flow_windows');
    const columns = await jobsColumns(db.url);
    for (const column of [
      'concurrency_key',
      'concurrency_limit',
      'rate_key',
      'rate_limit',
      'rate_period_ms',
    ]) {
      expect(columns).not.toContain(column);
    }
  });

  it('undoing StartMarks drops its columns and its index', async () => {
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual(ALL.slice(0, 6));
    expect((await indexesOf(db.url, 'jobs')).has('jobs_unstarted_rescued_idx')).toBe(false);
    const columns = await jobsColumns(db.url);
    expect(columns).not.toContain('started_attempt');
    expect(columns).not.toContain('unstarted_rescues');
  });

  it('undoing ObservabilityColumns drops its two columns', async () => {
    const columns = async () =>
      (await jobsColumns(db.url)).filter((c) => c === 'trace_context' || c === 'progress');
    expect(await columns()).toEqual(['progress', 'trace_context']);
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual(ALL.slice(0, 5));
    expect(await columns()).toEqual([]);
  });

  it('undoing PausedTable drops the paused table only', async () => {
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual(ALL.slice(0, 4));
    expect(await tablesOf(db.url, 'jobs')).toEqual(['jobs', 'recurring_executions', 'workers']);
  });

  it("undoing DashboardIndexes drops the dashboard's indexes only", async () => {
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual(ALL.slice(0, 3));
    const indexes = await indexesOf(db.url, 'jobs');
    expect(indexes.has('jobs_history_account_idx')).toBe(false);
    expect(indexes.has('jobs_history_name_idx')).toBe(false);
    expect(indexes.has('jobs_failed_account_idx')).toBe(true);
  });

  it('undoing FairClaimIndex drops the fair claim index only', async () => {
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual(ALL.slice(0, 2));
    const indexes = await indexesOf(db.url, 'jobs');
    expect(indexes.has('jobs_fair_claim_idx')).toBe(false);
    expect(indexes.has('jobs_claim_idx')).toBe(true);
  });

  it("undoing HotPathIndexes brings the first version's indexes back", async () => {
    await dataSource!.undoLastMigration();
    expect(await recordedMigrations(db.url)).toEqual([ALL[0]]);
    const indexes = await indexesOf(db.url, 'jobs');
    expect(indexes.has('jobs_locked_until_idx')).toBe(false);
    expect(indexes.has('jobs_failed_account_idx')).toBe(false);
    expect(indexes.get('jobs_lease_idx')).toMatch(
      /\(locked_until\) WHERE \(state = 'running'::text\)$/,
    );
    expect(indexes.get('jobs_account_idx')).toMatch(/\(account_id, state\)$/);
  });

  it('upgrades a database made by the first version (jobs in it kept)', async () => {
    await withClient(db.url, (c) => c.query(`insert into jobs.jobs (name) values ('kept')`));
    const applied = await dataSource!.runMigrations();
    expect(applied.map((m) => m.name)).toEqual(ALL.slice(1));
    const indexes = await indexesOf(db.url, 'jobs');
    expect(indexes.get('jobs_history_account_idx')).toMatch(/\(account_id, id\) WHERE/);
    expect(indexes.get('jobs_history_name_idx')).toMatch(/\(md5\(name\), id\) WHERE/);
    expect(indexes.has('jobs_lease_idx')).toBe(false);
    expect(indexes.has('jobs_account_idx')).toBe(false);
    expect(indexes.has('jobs_locked_until_idx')).toBe(true);
    expect(indexes.has('jobs_failed_account_idx')).toBe(true);
    expect(indexes.has('jobs_fair_claim_idx')).toBe(true);
    expect(await tablesOf(db.url, 'jobs')).toContain('paused');
    await withClient(db.url, async (c) => {
      const { rows } = await c.query<{ name: string }>(
        `select name from jobs.jobs where name = 'kept'`,
      );
      expect(rows).toHaveLength(1);
      await c.query('truncate jobs.jobs');
    });
  });

  it('undoLastMigration() down to the first drops the tables and the schema', async () => {
    for (let i = 0; i < ALL.length; i++) await dataSource!.undoLastMigration();
    expect(await schemaExists(db.url, 'jobs')).toBe(false);
    expect(await recordedMigrations(db.url)).toEqual([]);
  });

  it('can be applied again after undo', async () => {
    const applied = await dataSource!.runMigrations();
    expect(applied).toHaveLength(ALL.length);
    expect(await tablesOf(db.url, 'jobs')).toEqual([
      'flow_windows',
      'jobs',
      'paused',
      'recurring_executions',
      'workers',
    ]);
    for (let i = 0; i < ALL.length; i++) await dataSource!.undoLastMigration();
    expect(await schemaExists(db.url, 'jobs')).toBe(false);
  });
});

describe('createJobsMigrations(schema) beside the default ones', () => {
  let db: TestDatabase;
  let dataSource: DataSource | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    if (dataSource?.isInitialized) await dataSource.destroy();
    await db?.drop();
  });

  it('creates and drops each schema on its own', async () => {
    dataSource = await migrationDataSource(db.url, [
      ...jobsMigrations,
      ...createJobsMigrations('billing_jobs'),
    ]);
    const applied = await dataSource.runMigrations();
    expect(applied.map((m) => m.name).sort()).toEqual(
      [...ALL, ...ALL.map((n) => inSchema(n, 'BillingJobs'))].sort(),
    );
    expect(await tablesOf(db.url, 'jobs')).toEqual([
      'flow_windows',
      'jobs',
      'paused',
      'recurring_executions',
      'workers',
    ]);
    expect(await tablesOf(db.url, 'billing_jobs')).toEqual([
      'flow_windows',
      'jobs',
      'paused',
      'recurring_executions',
      'workers',
    ]);
    expect((await indexesOf(db.url, 'billing_jobs')).get('jobs_claim_idx')).toContain(
      'ON billing_jobs.jobs',
    );

    for (let i = 0; i < applied.length; i++) await dataSource.undoLastMigration();
    expect(await schemaExists(db.url, 'jobs')).toBe(false);
    expect(await schemaExists(db.url, 'billing_jobs')).toBe(false);
    expect(await recordedMigrations(db.url)).toEqual([]);
  });
});

describe('runMigrations: true at startup', () => {
  let db: TestDatabase;
  const apps: TestingModule[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
    await db?.drop();
  });

  it('lets several apps start at once on a fresh database (advisory lock)', async () => {
    const started = await Promise.allSettled(
      Array.from({ length: 4 }, () => createJobsApp({ url: db.url, providers: [PingJob] })),
    );
    for (const result of started) if (result.status === 'fulfilled') apps.push(result.value);
    expect(started.filter((r) => r.status === 'rejected')).toEqual([]);

    expect(await tablesOf(db.url, 'jobs')).toEqual([
      'flow_windows',
      'jobs',
      'paused',
      'recurring_executions',
      'workers',
    ]);
    expect([...(await indexesOf(db.url, 'jobs')).keys()]).toContain('jobs_claim_idx');

    // Every app enqueues, and the jobs get performed (by whichever worker claims them).
    const ids = await Promise.all(
      apps.map((app, n) => app.get(JobQueueService).performLater(PingJob, { n })),
    );
    const jobs = apps[0].get(JobQueueService);
    const done = await waitFor(async () => {
      const found = await Promise.all(ids.map((id) => jobs.find(id)));
      return found.every((j) => j?.state === 'completed') ? found : undefined;
    });
    expect(done.map((j) => j!.result)).toEqual([0, 1, 2, 3]);
  });

  it("upgrades the first version's indexes at startup while other replicas' workers run", async () => {
    // The database as the first version left it, with four apps (workers running) on it.
    await withClient(db.url, async (c) => {
      await c.query('drop index jobs.jobs_locked_until_idx');
      await c.query('drop index jobs.jobs_failed_account_idx');
      await c.query(
        `create index jobs_lease_idx on jobs.jobs (locked_until) where state = 'running'`,
      );
      await c.query(`create index jobs_account_idx on jobs.jobs (account_id, state)`);
    });
    const jobs = apps[0].get(JobQueueService);
    const busy = await jobs.performAllLater(
      PingJob,
      Array.from({ length: 200 }, (_, n) => ({ payload: { n } })),
    );
    apps.push(await createJobsApp({ url: db.url, providers: [PingJob] }));
    const indexes = await indexesOf(db.url, 'jobs');
    expect([...indexes.keys()]).not.toContain('jobs_lease_idx');
    expect([...indexes.keys()]).not.toContain('jobs_account_idx');
    expect([...indexes.keys()]).toContain('jobs_locked_until_idx');
    expect([...indexes.keys()]).toContain('jobs_failed_account_idx');
    await waitFor(async () => (await jobs.countByState()).every((c) => c.state === 'completed'));
    expect((await jobs.find(busy[199]))!.state).toBe('completed');
  });

  it('leaves a schema made by startup migrations to a later TypeORM migration run', async () => {
    // The library's migration is idempotent, so the user's CLI run after a startup run succeeds.
    const dataSource = await migrationDataSource(db.url);
    try {
      const applied = await dataSource.runMigrations();
      expect(applied.map((m) => m.name)).toEqual(ALL);
    } finally {
      await dataSource.destroy();
    }
  });
});
