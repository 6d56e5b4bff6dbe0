import type { Type } from '@nestjs/common';
import type { ValidatorOptions } from 'class-validator';
import type { PoolConfig } from 'pg';
import type { AccountResolver } from './account-resolver.interface';
import type { AccountSource, ScheduleDefinition } from './recurring-options.interface';
import type { BackoffOptions } from './backoff.interface';
import type { FlowOptions } from './flow-limits.interface';
import type { HandlerInvoker } from './job-invoker.interface';
import type { JobsLoggingOptions, ObservabilityOptions } from './observability-options.interface';

/** Tenant capture and re-entry. Omit it and every job is global. */
export interface TenantOptions {
  /** The ClsService key that holds the current account id during a request (e.g. `'accountId'`). Required. */
  clsKey: string;
  /** Checks the account before each tenant-scoped job performs. A class (resolved from the app's DI) or an object. Default: none. */
  resolver?: Type<AccountResolver> | AccountResolver;
  /** CLS key under which the resolver's return value is stored while the job performs. Default: none. */
  accountClsKey?: string;
  /** Lists the active accounts that `perAccount` schedules fan out to. A class (from DI) or an object. Default: none. */
  accounts?: Type<AccountSource> | AccountSource;
}

/** The worker that claims and performs jobs in this process. */
export interface WorkerOptions {
  /** Start a worker in this process. `false` gives an enqueue-only process. Default `true`. */
  enabled?: boolean;
  /** Jobs performed at once by this process. Default `10`. */
  concurrency?: number;
  /** Queues served; `['*']` serves every queue. Default `['*']`. */
  queues?: string[];
  /**
   * Polling interval, the safety net behind LISTEN/NOTIFY and the clock for delayed jobs. Default `1000`;
   * `250` when the worker has no LISTEN connection (`listen: false`, or `database.pooler: 'transaction'`
   * without `listen`), where polling is the only wake-up: a job then waits up to this long to start.
   */
  pollIntervalMs?: number;
  /**
   * Jobs claimed ahead of free slots, held in a local buffer (their leases are kept alive). Default:
   * adaptive, between `concurrency` and 1,000: it grows while the worker starves with jobs waiting and
   * follows about 100 ms of work at the current finish rate.
   */
  prefetch?: number;
  /** How long a claimed job is leased before another worker may rescue it. Default `60_000`. */
  leaseMs?: number;
  /** How often leases are extended and the worker row refreshed. Default `10_000`. */
  heartbeatIntervalMs?: number;
  /** How often expired leases are rescued. Default `30_000`. */
  rescueIntervalMs?: number;
  /** On shutdown, how long running jobs may finish before their signals are aborted. Default `10_000`. */
  shutdownTimeoutMs?: number;
  // Flow control between tenants (the README, "Fairness and flow control").
  /**
   * How claims share the worker's slots. `'account'`: among the accounts with runnable jobs of each
   * queue, round-robin (global jobs count as one account of their own), priority first; `false`: plain
   * order (priority, run time, id), first come first served. Default `'account'` when `tenant` is
   * configured, `false` without it (every job is global there: one lane per queue, nothing to share
   * between accounts). The cost is the claim statement's: measured on no-op jobs, a backlog over 100
   * accounts drains at about 0.66x the plain claim's rate, one large account at 0.8x
   * (`npm run bench -- --scenarios noisy`), about 3 µs of database time per job. `false` gives strict
   * arrival order across accounts.
   */
  fairness?: 'account' | false;
}

/**
 * Bounds on every statement the library sends on its own connections (the worker's pool and the queue's
 * pool for enqueues and operations outside a transaction), set as session settings when each connection
 * opens: a locked table or a stuck server then costs a bounded wait and a typed error
 * (`EnqueueFailedError` with `retryable: true` for an enqueue; for the worker, a retry of the same
 * statement), never a hang. Inside a caller's transaction (`manager`, or an ambient
 * `@nestjs-cls/transactional` one) the statement runs on the caller's connection, under its settings.
 * `0` leaves a setting to the server (its own or the role's default, often "no limit").
 */
export interface DatabaseOptions {
  /** PostgreSQL `statement_timeout` of the library's connections, in ms. Default `30_000`. */
  statementTimeoutMs?: number;
  /**
   * PostgreSQL `lock_timeout` of the library's connections, in ms: how long a statement waits for a row
   * or table lock (an `ACCESS EXCLUSIVE` lock of a migration, say) before failing. Default `5_000`.
   */
  lockTimeoutMs?: number;
  /**
   * Connections of the queue's own pool (enqueues, look-ups and operations outside a caller's
   * transaction), which connects like the DataSource (its public options). Default `5`.
   */
  poolSize?: number;
  /**
   * `'transaction'` when the library's connections (the DataSource's settings, or `connection`) go through
   * a pooler in transaction mode (PgBouncer `pool_mode = transaction`), where a server connection is
   * shared between clients transaction by transaction. Then no statement is prepared under a name (1.18
   * and older would hand it to another client's connection), no setting is sent at connect time
   * (PgBouncer refuses startup `options`), and each statement runs in a short transaction of its own
   * that opens with `SET LOCAL` of the timeouts (and, for the worker, its commit and plan settings):
   * two more round trips per statement. LISTEN needs a real session: give `listen` a direct URL, or the
   * worker polls. Default `false` (a direct connection, or a pooler in session mode).
   */
  pooler?: 'transaction' | false;
}

/** How long finished jobs are kept. The worker deletes older ones on a schedule. */
export interface RetentionOptions {
  /** Keep completed jobs this long. Default `86_400_000` (1 day). */
  completedMs?: number;
  /** Keep failed jobs this long (they await a human: retry or discard). Default `2_592_000_000` (30 days). */
  failedMs?: number;
  /** Keep cancelled jobs this long. Default `86_400_000` (1 day). */
  cancelledMs?: number;
  /** How often the worker sweeps. Default `600_000` (10 minutes). */
  intervalMs?: number;
  /**
   * Rows the sweep deletes per statement (1 to 100,000): each batch is its own short transaction, so a
   * sweep of millions of rows never holds many row locks or one long transaction, and claims, which read
   * only unfinished rows, never wait for it. Default `5_000`.
   */
  batchSize?: number;
}

/** Recurring schedules (`@Recurring` and config-declared ones). Needs `ScheduleModule.forRoot()` in the app. */
export interface RecurringModuleOptions {
  /** Tick schedules in this process. Default `true` (every replica ticks; each tick enqueues once). */
  enabled?: boolean;
  /** Schedules declared in configuration, in addition to `@Recurring` ones. Default `[]`. */
  schedules?: ScheduleDefinition[];
}

/** Values used by `@Job` options that leave them unset. */
export interface JobDefaults {
  /** Default `'default'`. */
  queue?: string;
  /** Default `0` (lower runs first). */
  priority?: number;
  /** Default `25`. */
  maxAttempts?: number;
  /** Default: none (no timeout). */
  timeoutMs?: number;
  /** Default: exponential, base 1 s, max 1 h, jitter 0.1. */
  backoff?: BackoffOptions;
}

/**
 * Size caps of what a worker stores for an attempt, in UTF-8 bytes. A result over its cap is replaced by
 * a JSON string saying so (the job still completes); an error text over its cap is cut, ending with
 * `… [truncated N bytes]`, in `lastError` and in every `errors` entry.
 */
export interface LimitsOptions {
  /** Largest stored result, in bytes of JSON. Default `262_144` (256 KiB, like `maxPayloadBytes`). */
  maxResultBytes?: number;
  /** Largest stored error message. Default `8_192`. */
  maxErrorMessageBytes?: number;
  /** Largest stored error stack. Default `16_384`. */
  maxErrorStackBytes?: number;
}

/** Options of `JobsModule.forRoot(...)` / the factory of `forRootAsync(...)`. */
export interface JobsModuleOptions extends JobsLoggingOptions {
  /** PostgreSQL schema of the jobs tables. Must match the schema the migrations created. Default `'jobs'`. */
  schema?: string;
  /** Run the library's migrations at startup (idempotent). Default `false`: run them with your own migrations. */
  runMigrations?: boolean;
  /**
   * Where the worker's own connections go: a `postgres://` connection string or a `pg` `PoolConfig`
   * (the same database as the DataSource, reached another way: a direct URL beside a pooled DataSource,
   * say). The pool size (`max`) is the worker's own (4). A queue in a database of its own is a DataSource
   * of its own instead (`dataSourceName`), so that migrations, enqueues and the worker all reach it.
   * Default: the DataSource's connection settings (its `options`).
   */
  connection?: string | PoolConfig;
  /**
   * Where the worker's LISTEN connection goes (wake-ups on enqueue, cancels of running jobs, pauses): a
   * `postgres://` connection string or a `pg` `PoolConfig`; `false`: none, the worker polls every
   * `worker.pollIntervalMs`. Behind a transaction pooler (`database.pooler: 'transaction'`) give it a
   * direct URL of the same database: a pooled connection cannot hold LISTEN. Default: like the worker's
   * pool (`connection`, else the DataSource); with `database.pooler: 'transaction'`, `false`.
   */
  listen?: string | PoolConfig | false;
  /** Statement and lock timeouts of the library's connections, and the queue pool's size. Default: see `DatabaseOptions`. */
  database?: DatabaseOptions;
  /** Tenant capture and re-entry. Default: none (all jobs global). */
  tenant?: TenantOptions;
  /** The worker. Default: enabled, concurrency 10, every queue. */
  worker?: WorkerOptions;
  /** Recurring schedules. Default: enabled, no extra schedules. */
  recurring?: RecurringModuleOptions;
  /** Defaults for `@Job` options. */
  defaults?: JobDefaults;
  /** Retention of finished jobs, swept by workers; `false` keeps them forever. Default: see `RetentionOptions`. */
  retention?: RetentionOptions | false;
  /** class-validator options used for payloads. Default `{ forbidUnknownValues: true }`. */
  validatorOptions?: ValidatorOptions;
  /** Largest accepted payload, in bytes of JSON. Default `262_144` (256 KiB). */
  maxPayloadBytes?: number;
  /** Size caps of stored results and error texts. Default: see `LimitsOptions`. */
  limits?: LimitsOptions;
  /** Concurrency and rate limits per account and per queue, across every worker. Default: none. */
  flow?: FlowOptions;
  /**
   * Wraps every handler call (tracing, metrics, logging): a subclass of the exported `JobInvoker`,
   * instantiated by the module's injector (so it may inject providers the module can see). Default:
   * `JobInvoker`, which calls `perform` and nothing else.
   */
  invoker?: Type<HandlerInvoker>;
  /** Events, traces, metrics and progress. Default: see `ObservabilityOptions`. */
  observability?: ObservabilityOptions;
}
