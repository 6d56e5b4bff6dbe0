/**
 * Concurrency limits under crashes (issue 14, item 6): three real worker processes
 * (test/chaos/worker-process.ts with `CHAOS_PROFILE=limits`: concurrency 6, 1.5 s leases) drain jobs
 * limited to 2 running at once per key while the test SIGKILLs one of them every second or so (the pool
 * starts a new one at once).
 *
 * What a user would see: inside the handlers, never more than 2 runs of one key overlap (a killed run
 * ends when its process died), and every job completes: the slots a killed worker held come back with
 * its leases, none leak.
 */
import { TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { JobQueueService } from 'nestjs-tenant-jobs';
import { LIMIT_JOB, LIMIT_PER_KEY, LIMIT_TABLES_SQL, LimitChaosJob } from './chaos/limit-jobs';
import { buildWorker, WorkerPool } from './chaos/worker-pool';
import { createTestDatabase, TestDatabase } from './support/database';
import { DATA_ROOT } from './support/embedded-postgres';
import { createJobsApp } from './support/jobs-app';
import { waitFor } from './support/wait-for';

const KEYS = ['a', 'b', 'c', 'd'];
const JOBS = 400;
const KILLS = 4;

jest.setTimeout(120_000);

const logDir = mkdtempSync(join(tmpdir(), 'jobs-limits-crash-'));
const buildDir = join(DATA_ROOT, `limits-build-${process.pid}-${randomBytes(4).toString('hex')}`);

describe('concurrency limits across worker processes that crash', () => {
  let db: TestDatabase;
  let app: TestingModule;
  let monitor: Pool;
  let workers: WorkerPool;
  let failed = false;

  beforeAll(async () => {
    db = await createTestDatabase();
    // Enqueue-only: migrates the database and enqueues; the worker processes do the work.
    app = await createJobsApp({
      url: db.url,
      providers: [LimitChaosJob],
      jobs: { worker: { enabled: false }, retention: false },
    });
    monitor = new Pool({ connectionString: db.url, max: 2 });
    await monitor.query(LIMIT_TABLES_SQL);
    workers = new WorkerPool({
      url: db.url,
      size: 3,
      logFile: join(logDir, 'workers.log'),
      command: buildWorker(buildDir),
      env: { CHAOS_PROFILE: 'limits' },
    });
    await workers.start();
  });

  afterAll(async () => {
    await workers?.destroy();
    await app?.close();
    await monitor?.end();
    await db?.drop();
    rmSync(buildDir, { recursive: true, force: true });
    if (!failed) rmSync(logDir, { recursive: true, force: true });
    else console.log(`[limits-crash] worker logs kept in ${logDir}`);
  });

  it(`never runs more than ${LIMIT_PER_KEY} of a key at once, and completes every job, while workers are killed`, async () => {
    try {
      const jobs = app.get(JobQueueService);
      await jobs.performAllLater(
        LimitChaosJob,
        Array.from({ length: JOBS }, (_, n) => ({ payload: { key: KEYS[n % KEYS.length], n } })),
      );
      // Kill a worker that is running limited jobs, one every second or so, while the drain goes on.
      for (let kill = 0; kill < KILLS && (await completed(monitor)) < JOBS; kill++) {
        await workers.allReady();
        // A worker in the middle of a run: its kill cuts that run short.
        const victim = await waitFor(
          async () => {
            if ((await completed(monitor)) === JOBS) return -1;
            const busy = await runningPids(monitor);
            const ready = workers.readyPids().filter((pid) => busy.includes(pid));
            return ready.length > 0 ? ready[Math.floor(Math.random() * ready.length)] : undefined;
          },
          { message: 'a worker running a limited job', timeoutMs: 20_000, intervalMs: 5 },
        );
        if (victim === -1) break;
        await workers.kill(victim);
        await new Promise((resolve) => setTimeout(resolve, 800 + Math.random() * 600));
      }
      await waitFor(async () => (await completed(monitor)) === JOBS, {
        message: `all ${JOBS} limited jobs to complete`,
        timeoutMs: 60_000,
        intervalMs: 200,
      });
      const kills = workers.exits.filter((e) => e.expected);
      expect(kills.length).toBeGreaterThanOrEqual(2);

      const overlap = await maxOverlapPerKey(monitor, new Map(kills.map((e) => [e.pid, e.at])));
      for (const key of KEYS) {
        expect({ key, max: overlap.get(key) }).toEqual({ key, max: LIMIT_PER_KEY });
      }
      // Some runs were cut short by a kill (else the test proved nothing about crashes).
      const { rows } = await monitor.query<{ n: number }>(
        'select count(*)::int as n from limit_runs where ended_at is null',
      );
      expect(rows[0].n).toBeGreaterThan(0);
    } catch (error) {
      failed = true;
      throw error;
    }
  });
});

async function completed(db: Pool): Promise<number> {
  const { rows } = await db.query<{ n: number }>(
    `select count(*)::int as n from jobs.jobs where name = $1 and state = 'completed'`,
    [LIMIT_JOB],
  );
  return rows[0].n;
}

/** The processes with a run in flight (started in the last second, not ended). */
async function runningPids(db: Pool): Promise<number[]> {
  const { rows } = await db.query<{ pid: number }>(
    `select distinct pid from limit_runs
     where ended_at is null and started_at > now() - interval '1 second'`,
  );
  return rows.map((r) => r.pid);
}

/**
 * The most runs of each key that overlapped in time, from `limit_runs`: a run lasts from its start to
 * its end, or, when its process was killed first, to that kill (`killedAt`, by pid, in ms since the
 * epoch, the same host clock as the database's).
 */
async function maxOverlapPerKey(
  db: Pool,
  killedAt: Map<number, number>,
): Promise<Map<string, number>> {
  const { rows } = await db.query<{ key: string; pid: number; start: number; end: number | null }>(
    `select key, pid, extract(epoch from started_at)::float8 * 1000 as start,
            extract(epoch from ended_at)::float8 * 1000 as "end"
     from limit_runs`,
  );
  const events = new Map<string, Array<[number, number]>>();
  for (const r of rows) {
    const end = r.end ?? killedAt.get(r.pid);
    if (end === undefined)
      throw new Error(`run of pid ${r.pid} never ended, and its pid was not killed`);
    const list = events.get(r.key) ?? [];
    // Ends sort before starts at the same instant: a slot handed over is not an overlap.
    list.push([r.start, 1], [end, -1]);
    events.set(r.key, list);
  }
  const max = new Map<string, number>();
  for (const [key, list] of events) {
    list.sort((x, y) => x[0] - y[0] || x[1] - y[1]);
    let now = 0;
    let most = 0;
    for (const [, delta] of list) most = Math.max(most, (now += delta));
    max.set(key, most);
  }
  return max;
}
