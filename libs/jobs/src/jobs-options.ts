import type { PoolConfig } from 'pg';
import { InvalidJobsOptionsError } from './errors';
import type { LoggerService, LogLevel, Type } from '@nestjs/common';
import type { ObservabilityOptions } from './interfaces/observability-options.interface';
import type {
  DatabaseOptions,
  HandlerInvoker,
  JobsModuleOptions,
  LimitsOptions,
  RecurringModuleOptions,
  RetentionOptions,
} from './interfaces';
import type { BackoffOptions } from './interfaces/backoff.interface';
import type { FlowOptions, QueueRateLimit } from './interfaces/flow-limits.interface';
import {
  checkDelayMs,
  checkInt4,
  checkName,
  checkPositiveInt4,
  checkTimerMs,
  describeValue,
} from './values';

/** Options with every default filled in; what the rest of the library reads. */
export interface ResolvedJobsOptions {
  schema: string;
  runMigrations: boolean;
  /** The worker pool's settings; `undefined`: the DataSource's. A connection string becomes `{ connectionString }`. */
  connection: PoolConfig | undefined;
  /** The LISTEN connection's settings; `undefined`: the worker pool's; `false`: none (poll-only). */
  listen: PoolConfig | false | undefined;
  database: Required<DatabaseOptions>;
  tenant: JobsModuleOptions['tenant'];
  worker: Required<Omit<NonNullable<JobsModuleOptions['worker']>, 'prefetch' | 'fairness'>> & {
    /** Resolved: `'account'` by default when tenants are configured. */
    fairness: 'account' | false;
    /** `undefined`: adaptive. */
    prefetch: number | undefined;
  };
  defaults: {
    queue: string;
    priority: number;
    maxAttempts: number;
    timeoutMs: number | undefined;
    backoff: Required<BackoffOptions>;
  };
  retention: Required<RetentionOptions> | false;
  recurring: Required<RecurringModuleOptions>;
  validatorOptions: NonNullable<JobsModuleOptions['validatorOptions']>;
  maxPayloadBytes: number;
  /** `undefined`: the default `JobInvoker`. */
  invoker: Type<HandlerInvoker> | undefined;
  observability: Required<ObservabilityOptions>;
  /** `undefined`: Nest's `Logger`. */
  logger: LoggerService | undefined;
  logLevel: LogLevel;
  limits: Required<LimitsOptions>;
  flow: ResolvedFlowOptions;
}

/** The `flow` option resolved: queues in a Map (a queue may be named `constructor`), `per` filled in. */
export interface ResolvedFlowOptions {
  accountConcurrency: number | undefined;
  queues: ReadonlyMap<
    string,
    { accountConcurrency: number | undefined; rate: Required<QueueRateLimit> | undefined }
  >;
  /** Whether any limit is configured here (with `@Job` limits: whether the worker claims with limits). */
  any: boolean;
}

/** Every default in one place; the README's option tables mirror this object. */
export const DEFAULT_BACKOFF: Required<BackoffOptions> = {
  type: 'exponential',
  baseMs: 1_000,
  maxMs: 3_600_000,
  jitter: 0.1,
};

export const DEFAULT_DATABASE: Required<DatabaseOptions> = {
  statementTimeoutMs: 30_000,
  lockTimeoutMs: 5_000,
  poolSize: 5,
  pooler: false,
};

export const DEFAULT_RETENTION: Required<RetentionOptions> = {
  completedMs: 86_400_000,
  failedMs: 2_592_000_000,
  cancelledMs: 86_400_000,
  intervalMs: 600_000,
  batchSize: 5_000,
};

/** The largest `retention.batchSize`: a bigger batch holds more row locks and WAL in one transaction. */
export const RETENTION_BATCH_MAX = 100_000;

/**
 * Size caps of stored results and error texts (issue 13, finding 13): `values/`'s `RESULT_MAX_BYTES` and
 * `ERROR_TEXT_MAX_BYTES`, repeated here because the options import leaves only (a spec keeps them equal).
 */
export const DEFAULT_LIMITS: Required<LimitsOptions> = {
  maxResultBytes: 262_144,
  maxErrorMessageBytes: 8_192,
  maxErrorStackBytes: 16_384,
};

/** `worker.pollIntervalMs` by default when the worker has no LISTEN connection. */
export const POLL_ONLY_INTERVAL_MS = 250;

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Fills in defaults and validates once, eagerly, so a bad option stops the app at startup. */
export function resolveJobsOptions(options: JobsModuleOptions = {}): ResolvedJobsOptions {
  const worker = options.worker ?? {};
  const concurrency = worker.concurrency ?? 10;
  const database = { ...DEFAULT_DATABASE, ...definedOnly(options.database) };
  // Behind a transaction pooler a LISTEN holds nothing: without a direct `listen` URL, poll only.
  const listen =
    options.listen === false
      ? false
      : (resolveConnection('listen', options.listen) ??
        (database.pooler === 'transaction' ? false : undefined));
  const resolved: ResolvedJobsOptions = {
    schema: options.schema ?? 'jobs',
    runMigrations: options.runMigrations ?? false,
    connection: resolveConnection('connection', options.connection),
    listen,
    database,
    tenant: options.tenant,
    worker: {
      enabled: worker.enabled ?? true,
      concurrency,
      queues: worker.queues ?? ['*'],
      // Polling is the only wake-up without LISTEN: a shorter default bounds the latency it adds.
      pollIntervalMs: worker.pollIntervalMs ?? (listen === false ? POLL_ONLY_INTERVAL_MS : 1_000),
      prefetch: worker.prefetch,
      leaseMs: worker.leaseMs ?? 60_000,
      heartbeatIntervalMs: worker.heartbeatIntervalMs ?? 10_000,
      rescueIntervalMs: worker.rescueIntervalMs ?? 30_000,
      shutdownTimeoutMs: worker.shutdownTimeoutMs ?? 10_000,
      // Fair for tenant apps; an app with no tenants has one lane per queue: nothing to share.
      fairness: worker.fairness ?? (options.tenant !== undefined ? 'account' : false),
    },
    defaults: {
      queue: options.defaults?.queue ?? 'default',
      priority: options.defaults?.priority ?? 0,
      maxAttempts: options.defaults?.maxAttempts ?? 25,
      timeoutMs: options.defaults?.timeoutMs,
      backoff: { ...DEFAULT_BACKOFF, ...definedOnly(options.defaults?.backoff) },
    },
    recurring: {
      enabled: options.recurring?.enabled ?? true,
      schedules: options.recurring?.schedules ?? [],
    },
    retention:
      options.retention === false
        ? false
        : { ...DEFAULT_RETENTION, ...definedOnly(options.retention) },
    validatorOptions: options.validatorOptions ?? { forbidUnknownValues: true },
    maxPayloadBytes: options.maxPayloadBytes ?? 262_144,
    invoker: options.invoker,
    observability: resolveObservability(options.observability),
    logger: options.logger,
    logLevel: options.logLevel ?? 'log',
    limits: { ...DEFAULT_LIMITS, ...definedOnly(options.limits) },
    flow: resolveFlow(options.flow),
  };
  validate(resolved);
  validateObservability(resolved);
  return resolved;
}

/** A connection string as a PoolConfig; anything but a non-empty string or a plain object is refused. */
function resolveConnection(
  field: 'connection' | 'listen',
  connection: JobsModuleOptions['connection'],
): PoolConfig | undefined {
  if (connection === undefined) return undefined;
  if (typeof connection === 'string' && connection.trim() !== '') {
    return { connectionString: connection };
  }
  if (typeof connection === 'object' && connection !== null && !Array.isArray(connection)) {
    return connection;
  }
  fail(
    field,
    `must be a postgres:// connection string or a pg PoolConfig object${field === 'listen' ? ', or false for none (poll-only)' : ''} (or be left out to connect like the DataSource), got ${describeValue(connection)}.`,
  );
}

function validate(o: ResolvedJobsOptions): void {
  if (!IDENTIFIER.test(o.schema)) {
    fail(
      'schema',
      `must be a lower-case PostgreSQL identifier (letters, digits, _), got "${o.schema}".`,
    );
  }
  if (o.tenant !== undefined) {
    if (typeof o.tenant.clsKey !== 'string' || o.tenant.clsKey.length === 0) {
      fail(
        'tenant.clsKey',
        `must name the ClsService key that holds the account id, e.g. { tenant: { clsKey: 'accountId' } }.`,
      );
    }
    const r = o.tenant.resolver;
    if (
      r !== undefined &&
      typeof r !== 'function' &&
      typeof (r as { resolve?: unknown }).resolve !== 'function'
    ) {
      fail('tenant.resolver', 'must be a class or an object with a resolve(accountId) method.');
    }
  }
  // Range checks (values/): integers PostgreSQL stores, and delays Node's timers can hold (at most
  // 2^31 - 1 ms: a 30-day retention interval used to fire thousands of times a second).
  // PostgreSQL takes both settings as int4 milliseconds; 0 leaves them to the server.
  check('database.statementTimeoutMs', checkTimerMs(o.database.statementTimeoutMs, { min: 0 }));
  check('database.lockTimeoutMs', checkTimerMs(o.database.lockTimeoutMs, { min: 0 }));
  check('database.poolSize', checkInt4(o.database.poolSize, { min: 1, max: 1_000 }));
  if (o.database.pooler !== false && o.database.pooler !== 'transaction') {
    fail(
      'database.pooler',
      `must be 'transaction' (the library's connections go through PgBouncer in transaction mode) or false, got ${describeValue(o.database.pooler)}.`,
    );
  }
  const w = o.worker;
  check('worker.concurrency', checkPositiveInt4(w.concurrency));
  if (w.prefetch !== undefined) check('worker.prefetch', checkInt4(w.prefetch, { min: 0 }));
  check('worker.pollIntervalMs', checkTimerMs(w.pollIntervalMs));
  check('worker.leaseMs', checkTimerMs(w.leaseMs));
  check('worker.heartbeatIntervalMs', checkTimerMs(w.heartbeatIntervalMs));
  check('worker.rescueIntervalMs', checkTimerMs(w.rescueIntervalMs));
  check('worker.shutdownTimeoutMs', checkTimerMs(w.shutdownTimeoutMs, { min: 0 }));
  if (w.heartbeatIntervalMs >= w.leaseMs) {
    fail(
      'worker.heartbeatIntervalMs',
      `(${w.heartbeatIntervalMs}) must be shorter than worker.leaseMs (${w.leaseMs}), or leases expire between heartbeats.`,
    );
  }
  validateFlowControl(w);
  if (
    !Array.isArray(w.queues) ||
    w.queues.length === 0 ||
    w.queues.some((q) => typeof q !== 'string' || !q)
  ) {
    fail('worker.queues', `must be a non-empty array of queue names, or ['*'] for every queue.`);
  }
  w.queues.forEach((q, i) => q !== '*' && check(`worker.queues[${i}]`, checkName(q, 'queue')));
  check('defaults.queue', checkName(o.defaults.queue, 'queue'));
  check('defaults.maxAttempts', checkPositiveInt4(o.defaults.maxAttempts));
  if (!Number.isInteger(o.defaults.priority)) fail('defaults.priority', 'must be an integer.');
  check('defaults.priority', checkInt4(o.defaults.priority));
  if (o.defaults.timeoutMs !== undefined) {
    check('defaults.timeoutMs', checkTimerMs(o.defaults.timeoutMs));
  }
  validateBackoff('defaults.backoff', o.defaults.backoff);
  positiveInt('maxPayloadBytes', o.maxPayloadBytes);
  if (o.invoker !== undefined && typeof o.invoker !== 'function') {
    fail(
      'invoker',
      'must be a class (a subclass of JobInvoker), e.g. { invoker: TracingInvoker }.',
    );
  }
  for (const key of ['maxResultBytes', 'maxErrorMessageBytes', 'maxErrorStackBytes'] as const)
    positiveInt(`limits.${key}`, o.limits[key]);
  if (o.retention) {
    for (const key of ['completedMs', 'failedMs', 'cancelledMs'] as const) {
      nonNegativeInt(`retention.${key}`, o.retention[key]);
      check(`retention.${key}`, checkDelayMs(o.retention[key]));
    }
    check('retention.intervalMs', checkTimerMs(o.retention.intervalMs));
    check(
      'retention.batchSize',
      checkInt4(o.retention.batchSize, { min: 1, max: RETENTION_BATCH_MAX }),
    );
  }
}

/** The flow-control block of the worker's options (the README, "Fairness and flow control"). */
function validateFlowControl(w: ResolvedJobsOptions['worker']): void {
  if (w.fairness !== 'account' && w.fairness !== false) {
    fail(
      'worker.fairness',
      `must be 'account' (share the worker between accounts) or false (first come, first served), got ${JSON.stringify(w.fairness)}.`,
    );
  }
}

/**
 * A copy without the keys whose value is `undefined`, so that spreading it over defaults keeps the default
 * for an option that is present but unset (e.g. `{ baseMs: config.get('BACKOFF_MS') }` with no such key).
 */
export function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(
    Object.entries(value ?? {}).filter(([, v]) => v !== undefined),
  ) as Partial<T>;
}

/** Validates a backoff policy; shared by module defaults and `@Job` options. */
export function validateBackoff(path: string, b: BackoffOptions): void {
  const types = ['exponential', 'polynomial', 'linear', 'fixed'];
  if (b.type !== undefined && typeof b.type !== 'function' && !types.includes(b.type)) {
    fail(
      `${path}.type`,
      `must be one of ${types.join(', ')} or a function (attempt, error) => ms.`,
    );
  }
  if (b.baseMs !== undefined) nonNegativeInt(`${path}.baseMs`, b.baseMs);
  if (b.baseMs !== undefined) check(`${path}.baseMs`, checkDelayMs(b.baseMs));
  if (b.maxMs !== undefined) nonNegativeInt(`${path}.maxMs`, b.maxMs);
  if (b.maxMs !== undefined) check(`${path}.maxMs`, checkDelayMs(b.maxMs));
  if (b.jitter !== undefined && !(b.jitter >= 0 && b.jitter <= 1))
    fail(`${path}.jitter`, 'must be between 0 and 1.');
}

function positiveInt(path: string, v: number): void {
  if (!Number.isInteger(v) || v <= 0) fail(path, `must be a positive integer, got ${String(v)}.`);
}

function nonNegativeInt(path: string, v: number): void {
  if (!Number.isInteger(v) || v < 0)
    fail(path, `must be a non-negative integer, got ${String(v)}.`);
}

/** Fails with `problem` (from a `values/` check) when there is one. */
function check(option: string, problem: string | undefined): void {
  if (problem !== undefined) fail(option, problem);
}

function fail(option: string, problem: string): never {
  throw new InvalidJobsOptionsError(option, problem);
}

/**
 * The `flow` option, checked: limits that are PostgreSQL integers from 1, periods that are timers (1 ms
 * to 2^31 − 1), queue names like `@Job({ queue })`'s, `per` one of its two words.
 */
function resolveFlow(flow: FlowOptions | undefined): ResolvedFlowOptions {
  if (flow === undefined) return { accountConcurrency: undefined, queues: new Map(), any: false };
  if (typeof flow !== 'object' || flow === null) fail('flow', 'must be an object.');
  const { accountConcurrency } = flow;
  if (accountConcurrency !== undefined) {
    check('flow.accountConcurrency', checkPositiveInt4(accountConcurrency));
  }
  const queues = new Map<
    string,
    { accountConcurrency: number | undefined; rate: Required<QueueRateLimit> | undefined }
  >();
  const given = flow.queues ?? {};
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    fail(
      'flow.queues',
      'must be an object keyed by queue name, e.g. { mailers: { rate: { … } } }.',
    );
  }
  for (const [queue, q] of Object.entries(given)) {
    const path = `flow.queues[${JSON.stringify(queue)}]`;
    check(path, checkName(queue, 'queue'));
    if (typeof q !== 'object' || q === null) fail(path, 'must be an object.');
    if (q.accountConcurrency !== undefined) {
      check(`${path}.accountConcurrency`, checkPositiveInt4(q.accountConcurrency));
    }
    let rate: Required<QueueRateLimit> | undefined;
    if (q.rate !== undefined) {
      if (typeof q.rate !== 'object' || q.rate === null) fail(`${path}.rate`, 'must be an object.');
      check(`${path}.rate.limit`, checkPositiveInt4(q.rate.limit));
      check(`${path}.rate.periodMs`, checkTimerMs(q.rate.periodMs));
      const per = q.rate.per ?? 'queue';
      if (per !== 'queue' && per !== 'account') {
        fail(`${path}.rate.per`, `must be 'queue' or 'account', got ${JSON.stringify(per)}.`);
      }
      rate = { limit: q.rate.limit, periodMs: q.rate.periodMs, per };
    }
    queues.set(queue, { accountConcurrency: q.accountConcurrency, rate });
  }
  const any =
    accountConcurrency !== undefined ||
    [...queues.values()].some((q) => q.accountConcurrency !== undefined || q.rate !== undefined);
  return { accountConcurrency, queues, any };
}

/** The `observability` option with its defaults (see `ObservabilityOptions`). */
function resolveObservability(o: ObservabilityOptions = {}): Required<ObservabilityOptions> {
  return {
    listenerTimeoutMs: o.listenerTimeoutMs ?? 5_000,
    tracing: o.tracing ?? true,
    metrics: o.metrics ?? true,
    accountIdOnSpans: o.accountIdOnSpans ?? true,
    queueStatsIntervalMs: o.queueStatsIntervalMs ?? 5_000,
    progressIntervalMs: o.progressIntervalMs ?? 1_000,
  };
}

const LOG_LEVELS = ['verbose', 'debug', 'log', 'warn', 'error', 'fatal'];

function validateObservability(o: ResolvedJobsOptions): void {
  const obs = o.observability;
  positiveInt('observability.listenerTimeoutMs', obs.listenerTimeoutMs);
  positiveInt('observability.queueStatsIntervalMs', obs.queueStatsIntervalMs);
  nonNegativeInt('observability.progressIntervalMs', obs.progressIntervalMs);
  for (const key of ['tracing', 'metrics', 'accountIdOnSpans'] as const)
    if (typeof obs[key] !== 'boolean') fail(`observability.${key}`, 'must be true or false.');
  if (!LOG_LEVELS.includes(o.logLevel))
    fail('logLevel', `must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(o.logLevel)}.`);
  const l = o.logger as { log?: unknown } | undefined;
  if (l !== undefined && (typeof l !== 'object' || l === null || typeof l.log !== 'function'))
    fail('logger', 'must be a Nest LoggerService (an object with log, error and warn methods).');
}
