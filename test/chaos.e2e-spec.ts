/**
 * Chaos suite: real worker processes (test/chaos/worker-process.ts) drain thousands of jobs on one
 * database while workers are SIGKILLed, database connections are terminated, or PostgreSQL itself is
 * restarted; and a poison job that kills its own process is failed after its attempts instead of looping.
 *
 * Every scenario checks the library's promise: every job completes, and an idempotent handler keyed by job
 * id applies each effect exactly once, whatever happens to the processes running it. Attempts cut short
 * are re-executed (at-least-once): the suite prints how many, bounds them by the jobs in flight at each
 * disruption, and checks that no job ran again without a recorded cause (a failed attempt or an expired
 * lease). Worker output goes to a temp dir that is kept (and printed) when a scenario fails.
 */
import { TestingModule } from '@nestjs/testing';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Pool } from 'pg';
import { EnqueueFailedError, JobQueueService } from 'nestjs-tenant-jobs';
import {
  CHAOS_EFFECT_JOB,
  CHAOS_MAX_HELD,
  CHAOS_TABLES_SQL,
  CHAOS_WORKER,
  ChaosEffectJob,
  ChaosPoisonJob,
  POISON_MAX_ATTEMPTS,
} from './chaos/chaos-jobs';
import { buildWorker, WorkerCommand, WorkerExit, WorkerPool } from './chaos/worker-pool';
import { createTestDatabase } from './support/database';
import { waitFor } from './support/wait-for';
import { DATA_ROOT, isAlive, startEmbeddedPostgres } from './support/embedded-postgres';
import { createJobsApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';

const JOBS = 10_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const seconds = (ms: number) => `${(ms / 1000).toFixed(1)}s`;

const logDir = mkdtempSync(join(tmpdir(), 'jobs-chaos-'));
// Inside the repository, so that the transpiled worker resolves node_modules.
const buildDir = join(DATA_ROOT, `chaos-build-${process.pid}-${randomBytes(4).toString('hex')}`);
let worker: WorkerCommand;
const cleanups: Array<() => Promise<unknown>> = [];
let failures = 0;

beforeAll(() => {
  worker = buildWorker(buildDir);
});

afterAll(async () => {
  for (const fn of cleanups.reverse()) {
    try {
      await fn();
    } catch (error) {
      console.error('[chaos] clean-up failed:', error);
    }
  }
  rmSync(buildDir, { recursive: true, force: true });
  if (failures === 0) rmSync(logDir, { recursive: true, force: true });
  else console.log(`[chaos] worker and server logs kept in ${logDir}`);
});

/** Registers a clean-up for afterAll (run last-in first-out, each even if another throws). */
function onCleanup(fn: () => Promise<unknown>): void {
  cleanups.push(fn);
}

/** Runs a scenario body; a failure keeps the logs. */
async function scenario(body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    failures++;
    throw error;
  }
}

/** A scenario's database, enqueue-only app, monitoring pool and worker processes. */
interface ChaosRun {
  name: string;
  jobs: JobQueueService;
  db: Pool;
  workers: WorkerPool;
}

/**
 * Runs the jobs migrations (through an enqueue-only app, which the test also uses to enqueue), creates
 * the bookkeeping tables and starts `processes` workers.
 */
async function openRun(name: string, url: string, processes: number): Promise<ChaosRun> {
  const app: TestingModule = await createJobsApp({
    url,
    providers: [ChaosEffectJob, ChaosPoisonJob],
    jobs: { worker: { enabled: false }, retention: false },
  });
  onCleanup(() => app.close());
  const db = new Pool({ connectionString: url, max: 3, application_name: 'chaos-monitor' });
  // Idle connections terminated by a scenario are dropped by the pool; nothing to do.
  db.on('error', () => undefined);
  onCleanup(() => db.end());
  await db.query(CHAOS_TABLES_SQL);
  const workers = new WorkerPool({
    url,
    size: processes,
    logFile: join(logDir, `${name}-workers.log`),
    command: worker,
  });
  onCleanup(() => workers.destroy());
  await workers.start();
  return { name, jobs: app.get(JobQueueService), db, workers };
}

/** A query that retries while a scenario has the connections cut or the server down. */
async function query<T>(db: Pool, text: string, values: unknown[] = []): Promise<T[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return (await db.query(text, values)).rows as T[];
    } catch (error) {
      if (attempt >= 50) throw error;
      await sleep(100);
    }
  }
}

async function count(run: ChaosRun, where: string): Promise<number> {
  const [row] = await query<{ n: number }>(
    run.db,
    `select count(*)::int as n from jobs.jobs where name = $1 and ${where}`,
    [CHAOS_EFFECT_JOB],
  );
  return row.n;
}

const completedCount = (run: ChaosRun) => count(run, `state = 'completed'`);

async function enqueueEffects(run: ChaosRun, total: number): Promise<void> {
  for (let start = 0; start < total; start += 1_000) {
    const size = Math.min(1_000, total - start);
    await run.jobs.performAllLater(
      ChaosEffectJob,
      Array.from({ length: size }, (_, i) => ({ payload: { n: start + i } })),
    );
  }
}

async function waitUntilCompleted(run: ChaosRun, atLeast: number, timeoutMs = 120_000) {
  await waitFor(async () => (await completedCount(run)) >= atLeast, {
    timeoutMs,
    intervalMs: 100,
    message: `${atLeast} ${run.name} jobs completed`,
  });
}

/** What the database says once a run has drained. */
interface Outcome {
  jobs: number;
  completed: number;
  running: number;
  /** Jobs with no effect: must be 0. */
  lost: number;
  effects: number;
  /** Distinct job ids of this run's jobs among the effects. */
  effectsOfJobs: number;
  /** Executions (attempt starts recorded by the handler) of effect jobs. */
  executions: number;
  applied: number;
  /** Re-executions that found the effect already applied (the idempotency key saved a double effect). */
  duplicates: number;
  /** Jobs that ran more often than one plus their recorded failures and lease expiries: must be 0. */
  unexplained: number;
  /** Attempts returned to the queue by the rescuer (lease expired), with the worker that held them. */
  rescuedFrom: string[];
}

async function outcome(run: ChaosRun): Promise<Outcome> {
  const [row] = await query<Omit<Outcome, 'rescuedFrom'>>(
    run.db,
    `with x as (select job_id, count(*)::int as n from chaos_executions group by job_id)
     select
       (select count(*)::int from jobs.jobs where name = $1) as jobs,
       (select count(*)::int from jobs.jobs where name = $1 and state = 'completed') as completed,
       (select count(*)::int from jobs.jobs where state = 'running') as running,
       (select count(*)::int from jobs.jobs j where name = $1
          and not exists (select 1 from chaos_effects e where e.job_id = j.id)) as lost,
       (select count(*)::int from chaos_effects) as effects,
       (select count(distinct e.job_id)::int from chaos_effects e
          join jobs.jobs j on j.id = e.job_id and j.name = $1) as "effectsOfJobs",
       (select coalesce(sum(x.n), 0)::int from x
          join jobs.jobs j on j.id = x.job_id and j.name = $1) as executions,
       (select count(*)::int from chaos_executions where outcome = 'applied') as applied,
       (select count(*)::int from chaos_executions where outcome = 'duplicate') as duplicates,
       (select count(*)::int from x join jobs.jobs j on j.id = x.job_id and j.name = $1
          where x.n > 1 + jsonb_array_length(j.errors)) as unexplained`,
    [CHAOS_EFFECT_JOB],
  );
  const rescued = await query<{ locked_by: string }>(
    run.db,
    `select e->>'lockedBy' as locked_by
     from jobs.jobs j, jsonb_array_elements(j.errors) e
     where j.name = $1 and e->>'name' = 'LeaseExpiredError'`,
    [CHAOS_EFFECT_JOB],
  );
  return { ...row, rescuedFrom: rescued.map((r) => r.locked_by) };
}

/** The pid part of a worker id (`host:pid:random`). */
const pidOf = (workerId: string): number => Number(workerId.split(':').at(-2));

/**
 * Asserts that every job completed with its effect applied exactly once, and that every re-execution had
 * a recorded cause; returns the figures.
 */
async function expectExactlyOnce(run: ChaosRun, total: number): Promise<Outcome> {
  const o = await outcome(run);
  expect({
    jobs: o.jobs,
    completed: o.completed,
    running: o.running,
    lost: o.lost,
    effects: o.effects,
    effectsOfJobs: o.effectsOfJobs,
    applied: o.applied,
    unexplained: o.unexplained,
  }).toEqual({
    jobs: total,
    completed: total,
    running: 0,
    lost: 0,
    effects: total,
    effectsOfJobs: total,
    applied: total,
    unexplained: 0,
  });
  expect(o.executions).toBeGreaterThanOrEqual(total);
  expect(o.duplicates).toBeLessThanOrEqual(o.executions - total);
  return o;
}

/** SIGTERMs every worker; each must drain and exit 0, leaving no job running and no process behind. */
async function stopWorkers(run: ChaosRun): Promise<WorkerExit[]> {
  await run.workers.allReady(); // let a restart in progress finish first
  const exits = await run.workers.stop();
  expect(exits.map((e) => ({ code: e.code, signal: e.signal }))).toEqual(
    exits.map(() => ({ code: 0, signal: null })),
  );
  const [{ running }] = await query<{ running: number }>(
    run.db,
    `select count(*)::int as running from jobs.jobs where state = 'running'`,
  );
  expect(running).toBe(0);
  expect(run.workers.spawned.filter(isAlive)).toEqual([]);
  return exits;
}

/** Worker exits the test did not cause. */
const unexpectedExits = (run: ChaosRun) => run.workers.exits.filter((e) => !e.expected);

describe('chaos: workers SIGKILLed and restarted', () => {
  const PROCESSES = 4;
  const MAX_KILLS = 40;

  it(
    `${PROCESSES} worker processes drain ${JOBS} jobs while a random one is SIGKILLed every 1–2 s`,
    () =>
      scenario(async () => {
        const db = await createTestDatabase();
        onCleanup(() => db.drop());
        const run = await openRun('kill', db.url, PROCESSES);
        const started = Date.now();
        await enqueueEffects(run, JOBS);

        /** Per kill: the jobs the dead worker still leased, and how many of those it had started. */
        const kills: Array<{ pid: number; leased: number; started: number }> = [];
        let stopChaos = false;
        const chaos = (async () => {
          while (!stopChaos && kills.length < MAX_KILLS) {
            await sleep(1_000 + Math.random() * 1_000);
            if (stopChaos || (await completedCount(run)) >= JOBS * 0.95) break;
            const candidates = run.workers.readyPids();
            if (candidates.length === 0) continue;
            const victim = candidates[Math.floor(Math.random() * candidates.length)];
            const exit = await run.workers.kill(victim);
            expect(exit.signal).toBe('SIGKILL');
            // Its leases still run (heartbeats kept them leaseMs ahead): nothing has touched its rows yet.
            // A statement it sent just before dying may still be committing: give it a moment.
            await sleep(200);
            const [held] = await query<{ leased: number; started: number }>(
              run.db,
              `select count(*)::int as leased,
                    count(*) filter (where exists (
                      select 1 from chaos_executions x
                      where x.job_id = j.id and x.attempt = j.attempts and x.pid = $1))::int as started
             from jobs.jobs j
             where j.state = 'running' and split_part(j.locked_by, ':', 2) = $1::text`,
              [victim],
            );
            kills.push({ pid: victim, ...held });
          }
        })();
        try {
          await waitUntilCompleted(run, JOBS);
        } finally {
          stopChaos = true;
          await chaos;
        }
        const duration = Date.now() - started;
        await stopWorkers(run);

        const o = await expectExactlyOnce(run, JOBS);
        const reExecutions = o.executions - JOBS;
        const leased = kills.reduce((sum, k) => sum + k.leased, 0);
        const inFlight = kills.reduce((sum, k) => sum + k.started, 0);
        const killed = new Set(kills.map((k) => k.pid));
        const rescuedFromLive = o.rescuedFrom.filter((w) => !killed.has(pidOf(w))).length;
        console.log(
          `[chaos] kill -9: jobs=${JOBS} processes=${PROCESSES} kills=${kills.length} ` +
            `re-executions=${reExecutions} (bound ${kills.length}×${CHAOS_MAX_HELD}=${kills.length * CHAOS_MAX_HELD}; ` +
            `running at the kills=${inFlight}, leased at the kills=${leased}, ` +
            `max leased by one=${Math.max(0, ...kills.map((k) => k.leased))}, ` +
            `found effect applied=${o.duplicates}, rescued=${o.rescuedFrom.length}, ` +
            `rescued from live workers=${rescuedFromLive}) lost=${o.lost} duration=${seconds(duration)}`,
        );

        expect(unexpectedExits(run)).toEqual([]);
        expect(kills.length).toBeGreaterThanOrEqual(3);
        // Only attempts cut short by a kill run again: at most what a worker holds, per kill.
        expect(reExecutions).toBeLessThanOrEqual(kills.length * CHAOS_MAX_HELD);
        expect(reExecutions).toBeLessThanOrEqual(inFlight + rescuedFromLive);
      }),
    150_000,
  );
});

describe('chaos: database connections terminated mid-run', () => {
  const PROCESSES = 3;
  const ROUNDS = 3;

  it(
    `${PROCESSES} worker processes drain ${JOBS} jobs while every connection is terminated ${ROUNDS} times`,
    () =>
      scenario(async () => {
        const db = await createTestDatabase();
        onCleanup(() => db.drop());
        const run = await openRun('terminate', db.url, PROCESSES);
        const started = Date.now();
        await enqueueEffects(run, JOBS);

        await waitUntilCompleted(run, JOBS * 0.3, 60_000);
        const rounds: Array<{ terminated: number; running: number }> = [];
        const admin = new Pool({ connectionString: db.url, max: 1 });
        admin.on('error', () => undefined);
        try {
          for (let round = 0; round < ROUNDS; round++) {
            if (round > 0) await sleep(1_000);
            const running = await count(run, `state = 'running'`);
            const rows = await query<{ ok: boolean }>(
              admin,
              `select pg_terminate_backend(pid) as ok from pg_stat_activity
             where datname = $1 and pid <> pg_backend_pid()`,
              [db.name],
            );
            rounds.push({ terminated: rows.filter((r) => r.ok).length, running });
          }
        } finally {
          await admin.end();
        }
        await waitUntilCompleted(run, JOBS);
        const duration = Date.now() - started;

        // The processes survived: they logged, backed off and reconnected.
        expect(unexpectedExits(run)).toEqual([]);
        expect(run.workers.lines.some((l) => l.includes('LISTEN connection lost'))).toBe(true);
        const restored = run.workers.spawned.filter((pid) =>
          run.workers.lines.some(
            (l) => l.startsWith(`[${pid}]`) && l.includes('LISTEN connection restored'),
          ),
        );
        expect(restored).toEqual(run.workers.spawned);
        await stopWorkers(run);

        const o = await expectExactlyOnce(run, JOBS);
        const reExecutions = o.executions - JOBS;
        console.log(
          `[chaos] connections terminated: jobs=${JOBS} processes=${PROCESSES} rounds=${ROUNDS} ` +
            `backends terminated=${rounds.map((r) => r.terminated).join('+')} ` +
            `re-executions=${reExecutions} (running at the rounds=${rounds.map((r) => r.running).join('+')}, ` +
            `found effect applied=${o.duplicates}, rescued=${o.rescuedFrom.length}) lost=${o.lost} ` +
            `duration=${seconds(duration)}`,
        );
        expect(rounds.every((r) => r.terminated >= PROCESSES)).toBe(true);
        // Each round cuts short at most the attempts each process holds.
        expect(reExecutions).toBeLessThanOrEqual(ROUNDS * PROCESSES * CHAOS_MAX_HELD);
      }),
    120_000,
  );
});

describe('chaos: PostgreSQL restarted mid-run', () => {
  const PROCESSES = 3;
  const DOWN_MS = 2_000;

  it(
    `${PROCESSES} worker processes drain ${JOBS} jobs across a server restart; an enqueue while it is down fails loudly`,
    () =>
      scenario(async () => {
        // A server of its own (persistent: stop() keeps the data), restarted on the same port and data dir.
        const dataDir = join(
          DATA_ROOT,
          `chaos-pg-${process.pid}-${randomBytes(4).toString('hex')}`,
        );
        onCleanup(() => rm(dataDir, { recursive: true, force: true })); // also after a failed start
        const server = await startEmbeddedPostgres({
          dataDir,
          logFile: join(logDir, 'restart-postgres.log'),
          persistent: true,
        });
        onCleanup(() => server.destroy());
        const run = await openRun('restart', server.url, PROCESSES);
        const started = Date.now();
        await enqueueEffects(run, JOBS);

        await waitUntilCompleted(run, JOBS * 0.3, 60_000);
        const runningBefore = await count(run, `state = 'running'`);
        const down = Date.now();
        await server.stop();
        const rejected = await run.jobs.performLater(ChaosEffectJob, { n: -1 }).then(
          (id) => new Error(`enqueue succeeded while the server was down (job ${id})`),
          (error: unknown) => error,
        );
        await sleep(Math.max(0, DOWN_MS - (Date.now() - down)));
        await server.start();
        const outage = Date.now() - down;

        expect(rejected).toBeInstanceOf(EnqueueFailedError);
        expect((rejected as EnqueueFailedError).jobName).toBe(CHAOS_EFFECT_JOB);
        // The enqueuing app recovers too: the same call works once the server is back.
        await waitFor(() => run.jobs.performLater(ChaosEffectJob, { n: JOBS }), {
          timeoutMs: 15_000,
          intervalMs: 200,
          message: 'an enqueue after the restart',
        });
        await waitUntilCompleted(run, JOBS + 1);
        const duration = Date.now() - started;
        expect(unexpectedExits(run)).toEqual([]);
        await stopWorkers(run);

        // Nothing of the rejected enqueue was written.
        expect(await count(run, `payload->>'n' = '-1'`)).toBe(0);
        const o = await expectExactlyOnce(run, JOBS + 1);
        const reExecutions = o.executions - (JOBS + 1);
        const disrupted = await count(run, `jsonb_array_length(errors) > 0`);
        console.log(
          `[chaos] postgres restart: jobs=${JOBS + 1} processes=${PROCESSES} outage=${seconds(outage)} ` +
            `re-executions=${reExecutions} (running before the stop=${runningBefore}, ` +
            `jobs with a failed or expired attempt=${disrupted}, found effect applied=${o.duplicates}, ` +
            `rescued=${o.rescuedFrom.length}) enqueue while down=rejected with ${(rejected as Error).name} ` +
            `lost=${o.lost} duration=${seconds(duration)}`,
        );
        // Only jobs leased when the server went down were disrupted: those running just before the stop,
        // plus at most one claim per process in between.
        expect(disrupted).toBeLessThanOrEqual(runningBefore + PROCESSES * CHAOS_MAX_HELD);
        expect(reExecutions).toBeLessThanOrEqual(disrupted);
      }),
    150_000,
  );
});

describe('chaos: poison job', () => {
  const PROCESSES = 2;
  const COMPANIONS = 200;

  it(
    'a job that SIGKILLs its process is rescued by lease expiry and failed after its attempts; it never loops',
    () =>
      scenario(async () => {
        const db = await createTestDatabase();
        onCleanup(() => db.drop());
        const run = await openRun('poison', db.url, PROCESSES);
        const started = Date.now();
        const poisonId = await run.jobs.performLater(ChaosPoisonJob, {});
        await enqueueEffects(run, COMPANIONS);

        const failed = await waitForJobState(run.jobs, poisonId, 'failed', {
          timeoutMs: 60_000,
          intervalMs: 100,
          message: 'the poison job failed',
        });
        const failedAfter = Date.now() - started;
        // Two more leases and rescues: nothing picks it up again.
        await sleep(2 * CHAOS_WORKER.leaseMs + CHAOS_WORKER.rescueIntervalMs);
        await waitUntilCompleted(run, COMPANIONS, 60_000);

        expect(failed.attempts).toBe(POISON_MAX_ATTEMPTS);
        expect(failed.lastError).toMatchObject({ name: 'LeaseExpiredError', attempt: 2 });
        expect(failed.errors.map((e) => e.name)).toEqual([
          'LeaseExpiredError',
          'LeaseExpiredError',
        ]);
        const executions = await query<{ attempt: number; pid: number }>(
          run.db,
          'select attempt, pid from chaos_executions where job_id = $1 order by id',
          [poisonId],
        );
        expect(executions.map((e) => e.attempt)).toEqual([1, 2]);
        // Each attempt killed the process that ran it (the pool restarted it); no other process died.
        const deaths = unexpectedExits(run);
        expect(deaths.map((d) => ({ pid: d.pid, signal: d.signal }))).toEqual(
          executions.map((e) => ({ pid: e.pid, signal: 'SIGKILL' })),
        );
        const [after] = await query<{ state: string; attempts: number }>(
          run.db,
          'select state, attempts from jobs.jobs where id = $1',
          [poisonId],
        );
        expect(after).toEqual({ state: 'failed', attempts: POISON_MAX_ATTEMPTS });
        await stopWorkers(run);
        const o = await expectExactlyOnce(run, COMPANIONS);
        console.log(
          `[chaos] poison job: state=${after.state} attempts=${after.attempts} ` +
            `last error=${String(failed.lastError?.name)} processes it killed=${deaths.length} ` +
            `failed after=${seconds(failedAfter)}; companions=${COMPANIONS} ` +
            `re-executions=${o.executions - COMPANIONS} lost=${o.lost}`,
        );
      }),
    120_000,
  );
});
