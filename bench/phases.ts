/**
 * The measurements of BENCHMARK.md, one function per phase. Each phase gets a fresh database (or Redis
 * queue name), sets a producer up in this process, and removes everything it created when it ends.
 */
import { viaPgBouncer } from './support/pgbouncer';
import { performance } from 'node:perf_hooks';
import {
  createScratchDatabase,
  postgresBackendCpuMs,
  redisServerCpuMs,
  ScratchDatabase,
  transactionsCommitted,
  waitForNoConnections,
} from './support/database';
import { WorkerProcess, WorkerReport } from './support/processes';
import { batches, percentile, sleep, wallClockMs } from './support/stats';
import { deleteQueueKeys } from './support/redis';
import type { BenchSystem, SystemSpec, SystemTarget } from './systems/types';

export interface PhaseConfig {
  /** Prefix of every database and Redis queue name of this bench run. */
  tag: string;
  enqueueOneN: number;
  enqueueBulkN: number;
  bulkBatch: number;
  /** Jobs of the concurrent single-enqueue phase, and how many callers share them. */
  enqueueConcurrentN: number;
  enqueueCallers: number;
  drainN: number;
  latencyJobs: number;
  diagnose: boolean;
}

export interface EnqueueResult {
  oneJobsPerSec: number;
  bulkJobsPerSec: number;
}

export interface DrainResult {
  jobsPerSec: number;
  elapsedMs: number;
  /** Jobs performed (at least `drainN`; more means some ran twice). */
  performed: number;
  /** Largest peak RSS among the worker processes, MiB. */
  maxRssMb: number;
  /** `pg_stat_database.xact_commit` delta / jobs (PostgreSQL-backed systems). */
  commitsPerJob: number | null;
  /** CPU of the worker processes / jobs, ms. */
  workerCpuMsPerJob: number;
  /** CPU of the store (this database's PostgreSQL backends, or redis-server) / jobs, ms. */
  storeCpuMsPerJob: number | null;
  /** Mean event-loop utilisation of the worker processes. */
  eventLoopUtilization: number;
  reports: WorkerReport[];
}

export interface ConcurrentEnqueueResult {
  jobsPerSec: number;
  /** CPU of this process (the callers and the system's client) / jobs, ms. */
  producerCpuMsPerJob: number;
  /** CPU of the store (this database's PostgreSQL backends, or redis-server) / jobs, ms. */
  storeCpuMsPerJob: number | null;
  /** `pg_stat_database.xact_commit` delta / jobs, once every connection closed (PostgreSQL systems). */
  commitsPerJob: number | null;
}

export interface LatencyResult {
  p50Ms: number;
  p95Ms: number;
  samplesMs: number[];
}

/** Untimed calls per caller before the concurrent-enqueue phase is timed (connections, plans, JIT). */
const CONCURRENT_WARMUP_CALLS = 20;
const LATENCY_WARMUP = 20;
/** Pause after each latency job so the worker is idle (and its completion written) before the next. */
const LATENCY_IDLE_GAP_MS = 20;
const LATENCY_TIMEOUT_MS = 10_000;
/** PostgreSQL 15 backends flush their statistics at most once a second while busy, and when idle. */
const STATS_FLUSH_MS = 1_200;

let scratchSeq = 0;

/** Enqueue throughput: `enqueueOneN` sequential single calls, then `enqueueBulkN` in batches. */
export function measureEnqueue(spec: SystemSpec, cfg: PhaseConfig): Promise<EnqueueResult> {
  return withScratch(spec, cfg, 'enq', (target) => enqueueOn(spec, cfg, target));
}

/** `measureEnqueue` on a database that exists (the `--history` scenario's, which holds a history). */
export function enqueueOn(
  spec: SystemSpec,
  cfg: PhaseConfig,
  target: SystemTarget,
): Promise<EnqueueResult> {
  return withProducer(spec, target, async (system) => {
    for (let i = 0; i < 50; i++) await system.enqueueOne(i); // warm-up: connections, plans
    await system.enqueueBulk(batches(100, 100)[0]);

    let started = performance.now();
    for (let n = 0; n < cfg.enqueueOneN; n++) await system.enqueueOne(n);
    const oneJobsPerSec = cfg.enqueueOneN / seconds(started);

    started = performance.now();
    for (const batch of batches(cfg.enqueueBulkN, cfg.bulkBatch)) await system.enqueueBulk(batch);
    const bulkJobsPerSec = cfg.enqueueBulkN / seconds(started);
    return { oneJobsPerSec, bulkJobsPerSec };
  });
}

/**
 * Concurrent single enqueue (what an API under load does): `enqueueCallers` async loops share
 * `enqueueConcurrentN` jobs, each loop enqueueing one job per call and awaiting it (durable: each system's
 * call resolves once its job is committed, or written to Redis) before the next. Every system uses the
 * call of its own one-at-a-time figure (`enqueueOne`) on the connections its adapter set up.
 */
export function measureConcurrentEnqueue(
  spec: SystemSpec,
  cfg: PhaseConfig,
): Promise<ConcurrentEnqueueResult> {
  return withScratch(spec, cfg, 'conc', async (target, db) => {
    const system = await spec.create();
    let open = true;
    try {
      await system.setup(target, { role: 'producer', concurrency: spec.concurrency });
      const callers = cfg.enqueueCallers;
      const warmUp = callers * CONCURRENT_WARMUP_CALLS;
      await concurrently(callers, 0, warmUp, (n) => system.enqueueOne(n));
      if (db) await sleep(STATS_FLUSH_MS); // the warm-up's commits are counted before the start
      const commitsBefore = db ? await transactionsCommitted(db.name) : null;
      const storeBefore = storeCpuMs(spec, db);
      const cpuBefore = process.cpuUsage();
      const started = performance.now();
      await concurrently(callers, warmUp, cfg.enqueueConcurrentN, (n) => system.enqueueOne(n));
      const elapsed = seconds(started);
      const cpu = process.cpuUsage(cpuBefore);
      const storeAfter = storeCpuMs(spec, db);
      const n = cfg.enqueueConcurrentN;
      let commitsPerJob: number | null = null;
      if (db && commitsBefore !== null) {
        await system.teardown();
        open = false;
        await waitForNoConnections(db.name);
        commitsPerJob = ((await transactionsCommitted(db.name)) - commitsBefore) / n;
      }
      return {
        jobsPerSec: n / elapsed,
        producerCpuMsPerJob: (cpu.user + cpu.system) / 1000 / n,
        storeCpuMsPerJob:
          storeBefore !== null && storeAfter !== null ? (storeAfter - storeBefore) / n : null,
        commitsPerJob,
      };
    } finally {
      if (open) await system.teardown();
    }
  });
}

/** Runs `callers` loops that call `fn` for each of `count` numbers from `first`, one call at a time each. */
async function concurrently(
  callers: number,
  first: number,
  count: number,
  fn: (n: number) => Promise<void>,
): Promise<void> {
  let next = first;
  const end = first + count;
  const loop = async () => {
    while (next < end) await fn(next++);
  };
  await Promise.all(Array.from({ length: callers }, loop));
}

/**
 * Drain throughput and cost: prefill `drainN` jobs in bulk, fork `processes` worker processes, wait until
 * they are set up and the database statistics have settled, then start them all and time until the last
 * job has started. Commits are read once every connection to the database is closed (all stats flushed).
 */
export function measureDrain(
  spec: SystemSpec,
  cfg: PhaseConfig,
  processes: number,
): Promise<DrainResult> {
  return withScratch(spec, cfg, `drain${processes}`, (target, db) =>
    drainOn(spec, cfg, processes, target, db),
  );
}

/** `measureDrain` on a database that exists (the `--history` scenario's, which holds a history). */
export async function drainOn(
  spec: SystemSpec,
  cfg: PhaseConfig,
  processes: number,
  target: SystemTarget,
  db: ScratchDatabase | undefined,
): Promise<DrainResult> {
  const producer = await spec.create();
  let producerOpen = true;
  const workers: WorkerProcess[] = [];
  try {
    await producer.setup(target, { role: 'producer', concurrency: spec.concurrency });
    for (const batch of batches(cfg.drainN, cfg.bulkBatch)) await producer.enqueueBulk(batch);
    if (db) {
      // A closed producer lets "no connection left" below mean "every backend flushed its stats".
      // (Redis queues stay open: the producer obliterates the queue at teardown.)
      await producer.teardown();
      producerOpen = false;
    }
    for (let i = 0; i < processes; i++) {
      workers.push(
        new WorkerProcess({
          systemId: spec.id,
          target,
          concurrency: spec.concurrency,
          diagnose: cfg.diagnose && processes === 1,
        }),
      );
    }
    await Promise.all(workers.map((w) => w.waitReady()));
    await sleep(STATS_FLUSH_MS);

    const commitsBefore = db ? await transactionsCommitted(db.name) : null;
    const storeCpuBefore = storeCpuMs(spec, db);
    const startedAt = wallClockMs();
    for (const w of workers) w.start();
    await waitFor(
      () => workers.reduce((sum, w) => sum + w.count, 0) >= cfg.drainN,
      60_000 + cfg.drainN * 5,
      () => workers.forEach((w) => w.check()),
      () => `${spec.id}: ${workers.map((w) => w.count).join('+')} of ${cfg.drainN} jobs performed`,
    );
    const storeCpuAfter = storeCpuMs(spec, db);
    const endedAt = Math.max(...workers.map((w) => w.lastAt));
    const reports = await Promise.all(workers.map((w) => w.stop()));

    let commitsPerJob: number | null = null;
    if (db && commitsBefore !== null) {
      await waitForNoConnections(db.name);
      commitsPerJob = ((await transactionsCommitted(db.name)) - commitsBefore) / cfg.drainN;
    }
    const elapsedMs = endedAt - startedAt;
    const sum = (f: (r: WorkerReport) => number) => reports.reduce((s, r) => s + f(r), 0);
    return {
      jobsPerSec: cfg.drainN / (elapsedMs / 1000),
      elapsedMs,
      performed: sum((r) => r.count),
      maxRssMb: Math.max(...reports.map((r) => r.maxRssMb)),
      commitsPerJob,
      workerCpuMsPerJob: sum((r) => r.cpuMs) / cfg.drainN,
      storeCpuMsPerJob:
        storeCpuBefore !== null && storeCpuAfter !== null
          ? (storeCpuAfter - storeCpuBefore) / cfg.drainN
          : null,
      eventLoopUtilization: sum((r) => r.eventLoopUtilization) / reports.length,
      reports,
    };
  } finally {
    for (const w of workers) w.kill();
    if (producerOpen) await producer.teardown();
  }
}

/**
 * Idle latency: one worker in this process, `latencyJobs` jobs enqueued one after another, each only once
 * the previous one has started and the worker has gone idle again; enqueue-call start → handler start.
 */
export function measureLatency(spec: SystemSpec, cfg: PhaseConfig): Promise<LatencyResult> {
  return withScratch(spec, cfg, 'lat', (target) =>
    withProducer(spec, target, async (system) => {
      const waiting = new Map<number, (at: number) => void>();
      await system.startWorkers((n) => {
        const at = performance.now();
        waiting.get(n)?.(at);
      });
      await sleep(200);
      const samplesMs: number[] = [];
      for (let n = 0; n < LATENCY_WARMUP + cfg.latencyJobs; n++) {
        const started = new Promise<number>((resolve) => waiting.set(n, resolve));
        const enqueuedAt = performance.now();
        await system.enqueueOne(n);
        const startedAt = await withTimeout(
          started,
          LATENCY_TIMEOUT_MS,
          `${spec.id}: job ${n} start`,
        );
        waiting.delete(n);
        if (n >= LATENCY_WARMUP) samplesMs.push(startedAt - enqueuedAt);
        await sleep(LATENCY_IDLE_GAP_MS);
      }
      await system.stop();
      return { p50Ms: percentile(samplesMs, 50), p95Ms: percentile(samplesMs, 95), samplesMs };
    }),
  );
}

/** Runs `fn` with a fresh database (PostgreSQL systems) and a fresh queue name, removed afterwards. */
async function withScratch<T>(
  spec: SystemSpec,
  cfg: PhaseConfig,
  phase: string,
  fn: (target: SystemTarget, db: ScratchDatabase | undefined) => Promise<T>,
): Promise<T> {
  const name = `${cfg.tag}_${spec.id.replace(/[^a-z0-9_]/g, '_')}_${phase}_${++scratchSeq}`;
  const db = spec.backend === 'postgres' ? await createScratchDatabase(name) : undefined;
  try {
    const target: SystemTarget =
      db && spec.via === 'pgbouncer'
        ? { databaseUrl: viaPgBouncer(db.url), directUrl: db.url, queueName: name }
        : { databaseUrl: db?.url ?? '', queueName: name };
    return await fn(target, db);
  } finally {
    if (db) await db.drop();
    else await deleteQueueKeys(name);
  }
}

async function withProducer<T>(
  spec: SystemSpec,
  target: SystemTarget,
  fn: (system: BenchSystem) => Promise<T>,
): Promise<T> {
  const system = await spec.create();
  try {
    await system.setup(target, { role: 'producer', concurrency: spec.concurrency });
    return await fn(system);
  } finally {
    await system.teardown();
  }
}

function storeCpuMs(spec: SystemSpec, db: ScratchDatabase | undefined): number | null {
  return db ? postgresBackendCpuMs(db.name) : spec.backend === 'redis' ? redisServerCpuMs() : null;
}

function seconds(startedAt: number): number {
  return (performance.now() - startedAt) / 1000;
}

async function waitFor(
  done: () => boolean,
  timeoutMs: number,
  check: () => void,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    check();
    if (Date.now() > deadline) throw new Error(`Timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(5);
  }
}

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`Timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
