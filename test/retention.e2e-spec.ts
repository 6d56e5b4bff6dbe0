import { Injectable } from '@nestjs/common';
import { TestingModule } from '@nestjs/testing';
import { Job, JobHandler, JobQueueService, JobWorker } from 'nestjs-tenant-jobs';
import { purgeSql } from 'nestjs-tenant-jobs/persistence/sql/operations.sql';
import { WorkerRepository } from 'nestjs-tenant-jobs/persistence/worker.repository';
import { Client } from 'pg';
import { DataSource } from 'typeorm';
import { createTestDatabase, TestDatabase } from './support/database';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';
import { waitFor } from './support/wait-for';

@Injectable()
@Job({ name: 'retention.echo', tenant: 'none' })
class EchoJob implements JobHandler<{ n: number }, number> {
  perform(payload: { n: number }): number {
    return payload.n;
  }
}

const BATCH = 10;
const HOUR = 3_600_000;

/**
 * Writes `count` jobs straight into the table in the given state, finished `agoMs` ago (or never, for an
 * unfinished state), so a suite can build a history far larger than a worker would finish in a test.
 */
async function insertJobs(
  ds: DataSource,
  count: number,
  state: string,
  agoMs: number | null,
  extra = '',
): Promise<void> {
  await ds.query(
    `insert into jobs.jobs (name, state, finished_at, run_at ${extra ? ', locked_by, locked_until' : ''})
     select 'retention.echo', $2,
            case when $3::float8 is null then null
                 else now() - ($3::float8 + g) * interval '1 millisecond' end,
            now() + interval '1 hour' ${extra}
     from generate_series(1, $1) g`,
    [count, state, agoMs],
  );
}

async function countBy(ds: DataSource): Promise<Record<string, number>> {
  const rows: Array<{ key: string; n: number }> = await ds.query(
    `select state || case when finished_at < now() - interval '2 hours' then ':old' else '' end as key,
            count(*)::int as n
     from jobs.jobs group by 1`,
  );
  return Object.fromEntries(rows.map((r) => [r.key, r.n]));
}

describe('the retention sweep', () => {
  let db: TestDatabase;
  let app: TestingModule | undefined;

  beforeEach(async () => {
    db = await createTestDatabase();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await app?.close();
    app = undefined;
    await db.drop();
  });

  it('deletes more expired rows than one batch over several batches, keeping the rest', async () => {
    const purges = jest.spyOn(WorkerRepository.prototype, 'purgeFinished');
    // Retention: completed and cancelled 1 hour, failed 3 hours; the sweep starts once rows are in.
    app = await createJobsApp({
      url: db.url,
      providers: [EchoJob],
      jobs: {
        worker: { enabled: false },
        retention: {
          completedMs: HOUR,
          cancelledMs: HOUR,
          failedMs: 3 * HOUR,
          intervalMs: 100,
          batchSize: BATCH,
        },
      },
    });
    const ds = app.get(DataSource);
    await insertJobs(ds, 4 * BATCH + 5, 'completed', 2 * HOUR); // expired: 45 rows, 5 batches
    await insertJobs(ds, BATCH + 1, 'cancelled', 2 * HOUR); // expired: 2 batches
    await insertJobs(ds, 3, 'completed', 60_000); // within retention
    await insertJobs(ds, 4, 'failed', 2 * HOUR); // older than completedMs, within failedMs
    await insertJobs(ds, 5, 'available', null); // scheduled for later
    await insertJobs(ds, 2, 'running', null, `, 'gone-worker', now() + interval '1 hour'`);
    // Unfinished jobs with an old finished_at (a retried job's row may carry one): never swept.
    await ds.query(
      `update jobs.jobs set finished_at = now() - interval '5 hours'
       where id in (select id from jobs.jobs where state = 'available' limit 2)`,
    );
    expect(await countBy(ds)).toEqual({
      'completed:old': 45,
      'cancelled:old': 11,
      completed: 3,
      'failed:old': 4,
      available: 3,
      'available:old': 2,
      running: 2,
    });

    const worker = app.get(JobWorker);
    await worker.start();
    await waitFor(async () => !('completed:old' in (await countBy(ds))), {
      message: 'expired completed jobs swept',
    });
    await waitFor(async () => !('cancelled:old' in (await countBy(ds))), {
      message: 'expired cancelled jobs swept',
    });
    await worker.stop();
    expect(await countBy(ds)).toEqual({
      completed: 3,
      'failed:old': 4,
      available: 3,
      'available:old': 2,
      running: 2,
    });

    // Batches of at most BATCH rows, each starting at the newest finished_at of the one before.
    const completed = purges.mock.calls.map(([r]) => r).filter((r) => r.state === 'completed');
    const results = await Promise.all(
      purges.mock.results.map((r) => r.value as ReturnType<WorkerRepository['purgeFinished']>),
    );
    expect(purges.mock.calls.every(([r]) => r.limit === BATCH)).toBe(true);
    expect(completed.length).toBeGreaterThanOrEqual(5);
    expect(results.every((r) => r.deleted <= BATCH)).toBe(true);
    const firstSweep = purges.mock.calls.slice(0, 5).map(([r], i) => ({
      state: r.state,
      after: r.after,
      deleted: results[i].deleted,
    }));
    expect(firstSweep.map((b) => [b.state, b.deleted])).toEqual([
      ['completed', BATCH],
      ['completed', BATCH],
      ['completed', BATCH],
      ['completed', BATCH],
      ['completed', 5],
    ]);
    expect(firstSweep[0].after).toBeNull();
    for (let i = 1; i < 5; i++) expect(firstSweep[i].after).toBe(results[i - 1].last);
  });

  it("plans each batch (generically, as the worker's pool does) on the finished-rows index", async () => {
    app = await createJobsApp({
      url: db.url,
      providers: [EchoJob],
      jobs: { worker: { enabled: false } },
    });
    const ds = app.get(DataSource);
    await insertJobs(ds, 20_000, 'completed', 2 * HOUR);
    await insertJobs(ds, 2_000, 'available', null);
    await ds.query('analyze jobs.jobs');
    const client = new Client({
      connectionString: db.url,
      options: '-c plan_cache_mode=force_generic_plan',
    });
    await client.connect();
    try {
      await client.query(`prepare sweep(text, float8, int, text) as ${purgeSql('jobs')}`);
      const plan = (
        await client.query(`explain execute sweep('completed', ${HOUR}, 5000, null)`)
      ).rows
        .map((r: Record<string, string>) => r['QUERY PLAN'])
        .join('\n');
      // A sequential scan here re-reads every row the earlier batches deleted, batch after batch.
      expect(plan).toContain('Index Scan using jobs_finished_idx');
      expect(plan).not.toContain('Seq Scan');
      expect(plan).not.toContain('Sort');
    } finally {
      await client.end();
    }
  });

  it('holds locks only on finished rows: a claim and a completion go through mid-batch', async () => {
    app = await createJobsApp({
      url: db.url,
      providers: [EchoJob],
      jobs: {
        retention: { completedMs: HOUR, intervalMs: 3_600_000 },
        // A claim or completion that had to wait for a lock would fail after 200 ms, not wait.
        database: { lockTimeoutMs: 200 },
      },
    });
    const ds = app.get(DataSource);
    const jobs = app.get(JobQueueService);
    await insertJobs(ds, 3 * BATCH, 'completed', 2 * HOUR);

    // A sweep stopped in the middle of a batch: the batch's rows deleted and locked, not committed.
    const sweeper = new Client({ connectionString: db.url });
    await sweeper.connect();
    try {
      await sweeper.query('begin');
      const [batch] = (await sweeper.query(purgeSql('jobs'), ['completed', HOUR, BATCH, null]))
        .rows;
      expect(batch.deleted).toBe(BATCH);
      const sweeperPid = (await sweeper.query('select pg_backend_pid() as pid')).rows[0].pid;

      const id = await jobs.performLater(EchoJob, { n: 7 });
      const job = await waitForJobState(jobs, id, 'completed');
      expect(job.result).toBe(7);

      // The batch still holds its locks (its transaction is open), and no one waits for a lock.
      const locks: Array<{ pid: number; mode: string; granted: boolean }> = await ds.query(
        `select pid, mode, granted from pg_locks
         where database = (select oid from pg_database where datname = current_database())`,
      );
      expect(locks).toContainEqual({ pid: sweeperPid, mode: 'RowExclusiveLock', granted: true });
      expect(locks.filter((l) => !l.granted)).toEqual([]);
      await sweeper.query('commit');
    } finally {
      await sweeper.end();
    }
    expect((await countBy(ds))['completed:old']).toBe(2 * BATCH);
  });
});
