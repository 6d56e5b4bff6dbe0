/**
 * Crash suite (issue 13, finding 4): a handler that kills its worker process (an exception thrown from a
 * callback, a rejection nobody handles, `process.exit(1)`) while 300 `maxAttempts: 1` companions wait in
 * that worker's buffer. Real OS processes (test/chaos/worker-process.ts with `CHAOS_PROFILE=crash`, one
 * slot, prefetch 400, 1 s leases), restarted by the pool when they die.
 *
 * The promise checked: a crash costs an attempt only of the job that had started. Every companion is
 * rescued with its attempt given back and completes on its first counted attempt; the crasher ends
 * `failed` within its bound (one run whose start was not yet recorded, plus its one attempt) and is never
 * picked up again.
 */
import { TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { JobQueueService } from 'nestjs-tenant-jobs';
import {
  CRASH_COMPANION_JOB,
  CRASH_JOBS,
  CRASH_KINDS,
  CRASH_TABLES_SQL,
  CRASH_WORKER,
  CrashCompanionJob,
  CrashKind,
  crashJobName,
  ExitCrashJob,
  UncaughtCrashJob,
  UnhandledCrashJob,
} from './chaos/crash-jobs';
import { buildWorker, WorkerCommand, WorkerPool } from './chaos/worker-pool';
import { createTestDatabase, TestDatabase } from './support/database';
import { DATA_ROOT } from './support/embedded-postgres';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';
import { waitFor } from './support/wait-for';

const COMPANIONS = 300;
const CRASHERS = { uncaught: UncaughtCrashJob, unhandled: UnhandledCrashJob, exit: ExitCrashJob };

jest.setTimeout(60_000);

const logDir = mkdtempSync(join(tmpdir(), 'jobs-crash-'));
// Inside the repository, so that the transpiled worker resolves node_modules.
const buildDir = join(DATA_ROOT, `crash-build-${process.pid}-${randomBytes(4).toString('hex')}`);
let worker: WorkerCommand;
let failures = 0;

beforeAll(() => {
  worker = buildWorker(buildDir);
});

afterAll(() => {
  rmSync(buildDir, { recursive: true, force: true });
  if (failures === 0) rmSync(logDir, { recursive: true, force: true });
  else console.log(`[crash] worker logs kept in ${logDir}`);
});

describe.each(CRASH_KINDS)('a job that crashes its worker (%s)', (kind: CrashKind) => {
  let db: TestDatabase;
  let app: TestingModule;
  let monitor: Pool;
  let workers: WorkerPool;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Enqueue-only: migrates the database and enqueues; the worker processes do the work.
    app = await createJobsApp({
      url: db.url,
      providers: CRASH_JOBS,
      jobs: { worker: { enabled: false }, retention: false },
    });
    monitor = new Pool({ connectionString: db.url, max: 2 });
    await monitor.query(CRASH_TABLES_SQL);
    workers = new WorkerPool({
      url: db.url,
      size: 1,
      logFile: join(logDir, `${kind}-workers.log`),
      command: worker,
      env: { CHAOS_PROFILE: 'crash' },
    });
    await workers.start();
  });

  afterAll(async () => {
    await workers?.destroy();
    await app?.close();
    await monitor?.end();
    await db?.drop();
  });

  it(`costs an attempt only of the job that started: ${COMPANIONS} buffered maxAttempts: 1 companions all complete, the crasher fails within its bound and never loops`, async () => {
    try {
      const jobs = app.get(JobQueueService);
      // Due together a moment from now, so one claim takes them all: the crasher first (priority), the
      // companions into the buffer of the worker it kills.
      const runAt = new Date(Date.now() + 1_000);
      const crasherId = await jobs.performLater(CRASHERS[kind], {}, { runAt, priority: -1 });
      await jobs.performAllLater(
        CrashCompanionJob,
        Array.from({ length: COMPANIONS }, (_, n) => ({ payload: { n }, runAt })),
      );

      const failed = await waitForJobState(jobs, crasherId, 'failed', {
        timeoutMs: 30_000,
        intervalMs: 100,
      });
      await waitFor(async () => (await companions(monitor, `state = 'completed'`)) === COMPANIONS, {
        timeoutMs: 30_000,
        intervalMs: 100,
        message: `${COMPANIONS} companions completed`,
      });

      // Its one attempt counted; before it, at most one rescue that could not know it had started.
      expect(failed.attempts).toBe(1);
      expect(failed.lastError).toMatchObject({ name: 'LeaseExpiredError', attempt: 1 });
      const counted = failed.errors.filter((e) => e.counted !== false);
      expect(counted).toHaveLength(1);
      expect(failed.errors.length).toBeLessThanOrEqual(2);
      const runs = await crasherRuns(monitor, crasherId);
      expect(runs).toBeGreaterThanOrEqual(1);
      expect(runs).toBeLessThanOrEqual(2);
      // Each run killed its process; nothing else did.
      const deaths = workers.exits.filter((e) => !e.expected);
      expect(deaths).toHaveLength(runs);

      // Every companion ran once, on a counted first attempt, though the crash found it buffered.
      expect(await companions(monitor, `attempts = 1 and state = 'completed'`)).toBe(COMPANIONS);
      expect(await companions(monitor, `unstarted_rescues between 1 and 2`)).toBe(COMPANIONS);

      // Nothing loops: two more leases and rescues later, nothing ran or died again.
      await sleep(2 * CRASH_WORKER.leaseMs + 2 * CRASH_WORKER.rescueIntervalMs);
      expect(await crasherRuns(monitor, crasherId)).toBe(runs);
      expect(workers.exits.filter((e) => !e.expected)).toHaveLength(runs);
      expect((await jobs.find(crasherId))?.state).toBe('failed');
      const { rows } = await monitor.query<{ running: number }>(
        `select count(*)::int as running from jobs.jobs where state <> 'completed' and name <> $1`,
        [crashJobName(kind)],
      );
      expect(rows[0].running).toBe(0);
    } catch (error) {
      failures++;
      throw error;
    }
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function companions(db: Pool, where: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from jobs.jobs where name = $1 and ${where}`,
    [CRASH_COMPANION_JOB],
  );
  return rows[0].n;
}

async function crasherRuns(db: Pool, id: string): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    'select count(*)::int as n from crash_runs where job_id = $1',
    [id],
  );
  return rows[0].n;
}
