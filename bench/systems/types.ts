/**
 * The common interface every benchmarked system implements. One instance is either a producer (the bench
 * process: enqueues, and for the latency phase also runs a worker in-process) or a worker (a forked worker
 * process). Every job carries a number `n`; the handler reports it to the sink as soon as it starts.
 */

/** Called by the no-op handler at the start of every job, with the job's `n`. */
export type JobSink = (n: number) => void;

/** Where a system keeps its jobs for one phase: a fresh database, or a fresh Redis queue name. */
export interface SystemTarget {
  /** postgres:// URL of the phase's scratch database (PostgreSQL-backed systems). */
  databaseUrl: string;
  /** Unique per phase; Redis-backed systems use it as the queue name. */
  queueName: string;
  /** The scratch database's direct URL when `databaseUrl` goes through PgBouncer (`--pgbouncer`). */
  directUrl?: string;
}

export interface SetupOptions {
  role: 'producer' | 'worker';
  /** Worker slots used if this instance starts workers. */
  concurrency: number;
}

export interface BenchSystem {
  /**
   * Connects and prepares storage (migrations, queue creation). Untimed. A producer creates the schema;
   * a worker may assume it exists but must not start working yet.
   */
  setup(target: SystemTarget, options: SetupOptions): Promise<void>;
  /** Enqueues one job (one call, awaited). */
  enqueueOne(n: number): Promise<void>;
  /** Enqueues one batch of jobs in one call. */
  enqueueBulk(ns: readonly number[]): Promise<void>;
  /** Starts performing jobs (with the concurrency given to `setup`); resolves once started. */
  startWorkers(sink: JobSink): Promise<void>;
  /** Stops the workers started here (graceful), if any. */
  stop(): Promise<void>;
  /** Closes every connection; a producer also removes what it created outside PostgreSQL. */
  teardown(): Promise<void>;
}

/** A system in one configuration, as it appears in the report. */
export interface SystemSpec {
  id: string;
  label: string;
  /** Where its jobs live; decides whether PostgreSQL commits are measured. */
  backend: 'postgres' | 'redis';
  /** Worker slots per process in the drain and scale phases. */
  concurrency: number;
  /** Included in the multi-process scale phase. */
  scale: boolean;
  /** What is configured beyond the defaults, for the report. */
  config: string;
  /** `'pgbouncer'`: its connections go through the PgBouncer `--pgbouncer` starts (transaction mode). */
  via?: 'pgbouncer';
  /** Loads only this adapter's module (a worker process imports one system's library, not all). */
  create(): Promise<BenchSystem>;
}
