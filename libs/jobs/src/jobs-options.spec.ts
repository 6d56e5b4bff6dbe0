import { InvalidJobsOptionsError, JobsError } from './errors';
import type { JobsModuleOptions } from './interfaces';
import {
  DEFAULT_BACKOFF,
  DEFAULT_RETENTION,
  resolveJobsOptions,
  validateBackoff,
} from './jobs-options';
import { Logger } from '@nestjs/common';
import { JobInvoker } from './worker/job-invoker';

/** Runs `fn` and returns what it threw (fails the test when it does not throw). */
function thrown(fn: () => unknown): InvalidJobsOptionsError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidJobsOptionsError);
    return error as InvalidJobsOptionsError;
  }
  throw new Error('expected an InvalidJobsOptionsError, nothing was thrown');
}

const DAY = 86_400_000;

describe('resolveJobsOptions', () => {
  describe('defaults', () => {
    const expected = {
      schema: 'jobs',
      runMigrations: false,
      connection: undefined,
      listen: undefined,
      database: { statementTimeoutMs: 30_000, lockTimeoutMs: 5_000, poolSize: 5, pooler: false },
      tenant: undefined,
      worker: {
        enabled: true,
        concurrency: 10,
        queues: ['*'],
        pollIntervalMs: 1_000,
        prefetch: undefined,
        leaseMs: 60_000,
        heartbeatIntervalMs: 10_000,
        rescueIntervalMs: 30_000,
        shutdownTimeoutMs: 10_000,
        fairness: false,
      },
      defaults: {
        queue: 'default',
        priority: 0,
        maxAttempts: 25,
        timeoutMs: undefined,
        backoff: { type: 'exponential', baseMs: 1_000, maxMs: 3_600_000, jitter: 0.1 },
      },
      recurring: { enabled: true, schedules: [] },
      retention: {
        completedMs: 86_400_000,
        failedMs: 2_592_000_000,
        cancelledMs: 86_400_000,
        intervalMs: 600_000,
        batchSize: 5_000,
      },
      validatorOptions: { forbidUnknownValues: true },
      maxPayloadBytes: 262_144,
      limits: { maxResultBytes: 262_144, maxErrorMessageBytes: 8_192, maxErrorStackBytes: 16_384 },
      invoker: undefined,
      observability: {
        listenerTimeoutMs: 5_000,
        tracing: true,
        metrics: true,
        accountIdOnSpans: true,
        queueStatsIntervalMs: 5_000,
        progressIntervalMs: 1_000,
      },
      logger: undefined,
      logLevel: 'log',
      flow: { accountConcurrency: undefined, queues: new Map(), any: false },
    };

    it('fills in every default when called with no options', () => {
      expect(resolveJobsOptions()).toStrictEqual(expected);
    });

    it('fills in every default for an empty object and empty nested objects', () => {
      expect(resolveJobsOptions({})).toStrictEqual(expected);
      expect(
        resolveJobsOptions({ worker: {}, defaults: { backoff: {} }, retention: {}, recurring: {} }),
      ).toStrictEqual(expected);
    });

    it('exports the default retention it uses', () => {
      expect(DEFAULT_RETENTION).toStrictEqual(expected.retention);
      expect(resolveJobsOptions().retention).not.toBe(DEFAULT_RETENTION);
    });

    it('keeps finished jobs forever with retention: false', () => {
      expect(resolveJobsOptions({ retention: false }).retention).toBe(false);
    });

    it('fills in the retention keys that are not given (or given as undefined)', () => {
      expect(
        resolveJobsOptions({ retention: { completedMs: 0, failedMs: undefined } }).retention,
      ).toStrictEqual({ ...expected.retention, completedMs: 0 });
    });

    it('exports the default backoff policy it uses', () => {
      expect(DEFAULT_BACKOFF).toStrictEqual(expected.defaults.backoff);
      // The resolved options get their own copy: changing them cannot change the shared default.
      const resolved = resolveJobsOptions();
      expect(resolved.defaults.backoff).not.toBe(DEFAULT_BACKOFF);
      resolved.defaults.backoff.baseMs = 1;
      expect(DEFAULT_BACKOFF.baseMs).toBe(1_000);
    });

    it('leaves prefetch unset (adaptive) unless given', () => {
      const r = resolveJobsOptions({ worker: { concurrency: 3 } });
      expect(r.worker.concurrency).toBe(3);
      expect(r.worker.prefetch).toBeUndefined();
      expect(resolveJobsOptions({ worker: { prefetch: 7 } }).worker.prefetch).toBe(7);
    });

    it('shares the worker between accounts by default in a tenant app, and can be turned off', () => {
      expect(resolveJobsOptions({ tenant: { clsKey: 'accountId' } }).worker.fairness).toBe(
        'account',
      );
      // No tenants: every job is global, one lane per queue; the plain claim unless asked.
      expect(resolveJobsOptions({}).worker.fairness).toBe(false);
      expect(resolveJobsOptions({ worker: { fairness: 'account' } }).worker.fairness).toBe(
        'account',
      );
      expect(
        resolveJobsOptions({ tenant: { clsKey: 'accountId' }, worker: { fairness: false } }).worker
          .fairness,
      ).toBe(false);
      const error = thrown(() =>
        resolveJobsOptions({ worker: { fairness: 'tenant' as unknown as 'account' } }),
      );
      expect(error.message).toContain('worker.fairness');
      expect(error.message).toContain("'account'");
    });

    it('keeps every given value', () => {
      const resolver = { resolve: () => ({}) };
      const options: JobsModuleOptions = {
        schema: 'my_jobs',
        runMigrations: true,
        connection: { host: 'queue-db', database: 'queue', ssl: true },
        listen: { host: 'queue-db-direct', database: 'queue' },
        database: {
          statementTimeoutMs: 0,
          lockTimeoutMs: 1_000,
          poolSize: 2,
          pooler: 'transaction',
        },
        tenant: { clsKey: 'accountId', resolver, accountClsKey: 'account' },
        worker: {
          enabled: false,
          concurrency: 4,
          queues: ['mail', 'billing'],
          pollIntervalMs: 250,
          prefetch: 0,
          leaseMs: 5_000,
          heartbeatIntervalMs: 1_000,
          rescueIntervalMs: 2_000,
          shutdownTimeoutMs: 0,
          fairness: false,
        },
        defaults: {
          queue: 'mail',
          priority: -5,
          maxAttempts: 3,
          timeoutMs: 30_000,
          backoff: { type: 'fixed', baseMs: 500 },
        },
        recurring: { enabled: false, schedules: [] },
        retention: { completedMs: 1, failedMs: 2, cancelledMs: 3, intervalMs: 4, batchSize: 5 },
        validatorOptions: { whitelist: true },
        maxPayloadBytes: 1_024,
        invoker: JobInvoker,
        observability: {
          listenerTimeoutMs: 1,
          tracing: false,
          metrics: false,
          accountIdOnSpans: false,
          queueStatsIntervalMs: 2,
          progressIntervalMs: 0,
        },
        logger: new Logger('mine'),
        logLevel: 'debug',
        limits: { maxResultBytes: 100, maxErrorMessageBytes: 200, maxErrorStackBytes: 300 },
      };
      expect(resolveJobsOptions(options)).toStrictEqual({
        ...options,
        flow: { accountConcurrency: undefined, queues: new Map(), any: false },
        defaults: {
          ...options.defaults,
          backoff: { type: 'fixed', baseMs: 500, maxMs: 3_600_000, jitter: 0.1 },
        },
      });
    });

    it('keeps the default for a backoff key that is present but undefined', () => {
      // e.g. `{ baseMs: config.get('BACKOFF_MS') }` when the variable is not set
      const r = resolveJobsOptions({
        defaults: { backoff: { type: undefined, baseMs: undefined, maxMs: 5_000 } },
      });
      expect(r.defaults.backoff).toStrictEqual({ ...DEFAULT_BACKOFF, maxMs: 5_000 });
    });

    it('accepts a backoff function and a resolver class', () => {
      const fn = (attempt: number) => attempt * 10;
      class Resolver {
        resolve() {
          return {};
        }
      }
      const r = resolveJobsOptions({
        tenant: { clsKey: 'accountId', resolver: Resolver },
        defaults: { backoff: { type: fn } },
      });
      expect(r.defaults.backoff.type).toBe(fn);
      expect(r.tenant?.resolver).toBe(Resolver);
    });
  });

  describe('validation', () => {
    it('throws an InvalidJobsOptionsError (a JobsError) that names the option', () => {
      const error = thrown(() => resolveJobsOptions({ worker: { concurrency: 0 } }));
      expect(error).toBeInstanceOf(JobsError);
      expect(error.name).toBe('InvalidJobsOptionsError');
      expect(error.option).toBe('worker.concurrency');
      expect(error.message).toBe(
        'JobsModule option "worker.concurrency" must be a positive integer, got 0.',
      );
    });

    it.each([
      ['Bad-Name', 'Bad-Name'],
      ['upper-case', 'Jobs'],
      ['leading digit', '1jobs'],
      ['empty', ''],
      ['quote', 'jobs"; drop table x; --'],
      ['64 characters', `j${'o'.repeat(63)}`],
    ])('rejects a schema that is not a plain identifier (%s)', (_what, schema) => {
      const error = thrown(() => resolveJobsOptions({ schema }));
      expect(error.option).toBe('schema');
      expect(error.message).toContain('"schema"');
      expect(error.message).toContain('lower-case PostgreSQL identifier');
      expect(error.message).toContain(`got "${schema}"`);
    });

    it('takes a connection string for the worker pool as { connectionString }', () => {
      const url = 'postgres://worker@db.internal:5432/app';
      expect(resolveJobsOptions({ connection: url }).connection).toStrictEqual({
        connectionString: url,
      });
    });

    it.each([
      ['an empty string', ''],
      ['blank', '   '],
      ['a number', 5432],
      ['null', null],
      ['an array', ['postgres://db/app']],
    ])('rejects a connection that is %s, showing both accepted forms', (_what, connection) => {
      const error = thrown(() => resolveJobsOptions({ connection: connection as never }));
      expect(error.option).toBe('connection');
      expect(error.message).toContain('"connection"');
      expect(error.message).toContain('postgres:// connection string or a pg PoolConfig');
    });

    it('behind a transaction pooler, LISTEN only on `listen`, else poll-only with a 250 ms default poll', () => {
      const pooled = resolveJobsOptions({ database: { pooler: 'transaction' } });
      expect(pooled.listen).toBe(false);
      expect(pooled.worker.pollIntervalMs).toBe(250);
      const direct = 'postgres://app@db.internal:5432/app';
      const listening = resolveJobsOptions({ database: { pooler: 'transaction' }, listen: direct });
      expect(listening.listen).toStrictEqual({ connectionString: direct });
      expect(listening.worker.pollIntervalMs).toBe(1_000);
      expect(resolveJobsOptions({ listen: false }).worker.pollIntervalMs).toBe(250);
      expect(
        resolveJobsOptions({ listen: false, worker: { pollIntervalMs: 50 } }).worker,
      ).toMatchObject({ pollIntervalMs: 50 });
    });

    it.each([
      ['an empty string', ''],
      ['true', true],
      ['a number', 5432],
    ])('rejects a listen that is %s, naming false as the poll-only choice', (_what, listen) => {
      const error = thrown(() => resolveJobsOptions({ listen: listen as never }));
      expect(error.option).toBe('listen');
      expect(error.message).toContain('or false for none (poll-only)');
    });

    it.each([['session'], [true], ['Transaction'], ['transaction\u0000']])(
      'rejects database.pooler %p, naming the accepted values',
      (pooler) => {
        const error = thrown(() => resolveJobsOptions({ database: { pooler: pooler as never } }));
        expect(error.option).toBe('database.pooler');
        expect(error.message).toContain("must be 'transaction'");
      },
    );

    it.each(['jobs', 'my_jobs', '_private', 'q2', `j${'o'.repeat(62)}`])(
      'accepts the schema %s',
      (schema) => {
        expect(resolveJobsOptions({ schema }).schema).toBe(schema);
      },
    );

    it.each([
      ['empty clsKey', { clsKey: '' }],
      ['missing clsKey', {}],
      ['non-string clsKey', { clsKey: 42 }],
    ])('rejects a tenant without a CLS key (%s), showing the fix', (_what, tenant) => {
      const error = thrown(() => resolveJobsOptions({ tenant: tenant as never }));
      expect(error.option).toBe('tenant.clsKey');
      expect(error.message).toContain('"tenant.clsKey"');
      expect(error.message).toContain("{ tenant: { clsKey: 'accountId' } }");
    });

    it.each([
      ['a string', 'resolver'],
      ['an object without resolve()', { check: () => true }],
      ['an object whose resolve is not a function', { resolve: true }],
    ])('rejects a tenant.resolver that is %s', (_what, resolver) => {
      const error = thrown(() =>
        resolveJobsOptions({ tenant: { clsKey: 'accountId', resolver: resolver as never } }),
      );
      expect(error.option).toBe('tenant.resolver');
      expect(error.message).toContain('resolve(accountId)');
    });

    it.each([
      ['worker.concurrency', { worker: { concurrency: 0 } }, 'positive integer, got 0'],
      ['worker.concurrency', { worker: { concurrency: 1.5 } }, 'positive integer, got 1.5'],
      ['worker.concurrency', { worker: { concurrency: NaN } }, 'positive integer, got NaN'],
      ['worker.prefetch', { worker: { prefetch: -1 } }, 'non-negative integer, got -1'],
      ['worker.pollIntervalMs', { worker: { pollIntervalMs: 0 } }, 'positive integer, got 0'],
      ['worker.leaseMs', { worker: { leaseMs: -5 } }, 'positive integer, got -5'],
      [
        'worker.heartbeatIntervalMs',
        { worker: { heartbeatIntervalMs: 0 } },
        'positive integer, got 0',
      ],
      ['worker.rescueIntervalMs', { worker: { rescueIntervalMs: 0.5 } }, 'positive integer'],
      [
        'worker.shutdownTimeoutMs',
        { worker: { shutdownTimeoutMs: -1 } },
        'non-negative integer, got -1',
      ],
      ['defaults.maxAttempts', { defaults: { maxAttempts: 0 } }, 'positive integer, got 0'],
      ['defaults.priority', { defaults: { priority: 0.5 } }, 'must be an integer'],
      ['defaults.timeoutMs', { defaults: { timeoutMs: 0 } }, 'positive integer, got 0'],
      ['maxPayloadBytes', { maxPayloadBytes: 0 }, 'positive integer, got 0'],
      ['maxPayloadBytes', { maxPayloadBytes: Infinity }, 'positive integer, got Infinity'],
      ['retention.completedMs', { retention: { completedMs: -1 } }, 'non-negative integer, got -1'],
      ['retention.failedMs', { retention: { failedMs: 1.5 } }, 'non-negative integer, got 1.5'],
      ['retention.cancelledMs', { retention: { cancelledMs: NaN } }, 'non-negative integer'],
      ['retention.intervalMs', { retention: { intervalMs: 0 } }, 'positive integer, got 0'],
      ['retention.batchSize', { retention: { batchSize: 0 } }, 'positive integer, got 0'],
      ['retention.batchSize', { retention: { batchSize: 2.5 } }, 'got 2.5'],
      ['retention.batchSize', { retention: { batchSize: 100_001 } }, 'at most 100000'],
      ['retention.batchSize', { retention: { batchSize: '500' as never } }, 'got "500"'],
      ['invoker', { invoker: {} as never }, 'must be a class (a subclass of JobInvoker)'],
      // Hardening #6: timers above 2^31 - 1 ms fire at once; integers must fit PostgreSQL's integer.
      ['defaults.timeoutMs', { defaults: { timeoutMs: 30 * DAY } }, 'at most 2147483647'],
      ['defaults.timeoutMs', { defaults: { timeoutMs: NaN } }, 'positive integer, got NaN'],
      ['retention.intervalMs', { retention: { intervalMs: 30 * DAY } }, 'at most 2147483647'],
      ['worker.pollIntervalMs', { worker: { pollIntervalMs: 2 ** 31 } }, 'at most 2147483647'],
      ['worker.leaseMs', { worker: { leaseMs: 30 * DAY } }, 'at most 2147483647'],
      ['worker.rescueIntervalMs', { worker: { rescueIntervalMs: 2 ** 40 } }, 'at most'],
      ['worker.shutdownTimeoutMs', { worker: { shutdownTimeoutMs: 2 ** 31 } }, 'at most'],
      ['worker.concurrency', { worker: { concurrency: 2 ** 31 } }, 'at most 2147483647'],
      ['defaults.maxAttempts', { defaults: { maxAttempts: 1e20 } }, 'at most 2147483647'],
      ['defaults.priority', { defaults: { priority: 2 ** 31 } }, 'at most 2147483647'],
      ['defaults.queue', { defaults: { queue: 'mail\u0000' } }, 'U+0000'],
      ['defaults.queue', { defaults: { queue: '' } }, 'non-empty string'],
      ['worker.queues[1]', { worker: { queues: ['a', 'b\n'] } }, 'control characters'],
      ['retention.completedMs', { retention: { completedMs: 1e16 } }, 'at most 3155760000000'],
      ['defaults.backoff.maxMs', { defaults: { backoff: { maxMs: 1e16 } } }, 'at most'],
      ['database.lockTimeoutMs', { database: { lockTimeoutMs: -1 } }, 'non-negative integer'],
      ['database.statementTimeoutMs', { database: { statementTimeoutMs: 2 ** 31 } }, 'at most'],
      ['database.poolSize', { database: { poolSize: 0 } }, 'positive integer, got 0'],
      [
        'observability.listenerTimeoutMs',
        { observability: { listenerTimeoutMs: 0 } },
        'positive integer, got 0',
      ],
      [
        'observability.queueStatsIntervalMs',
        { observability: { queueStatsIntervalMs: 1.5 } },
        'positive integer, got 1.5',
      ],
      [
        'observability.progressIntervalMs',
        { observability: { progressIntervalMs: -1 } },
        'non-negative integer, got -1',
      ],
      ['observability.tracing', { observability: { tracing: 'yes' as never } }, 'true or false'],
      ['logLevel', { logLevel: 'loud' as never }, 'must be one of verbose, debug'],
      ['logger', { logger: {} as never }, 'must be a Nest LoggerService'],
      ['limits.maxResultBytes', { limits: { maxResultBytes: 0 } }, 'positive integer, got 0'],
      ['limits.maxErrorMessageBytes', { limits: { maxErrorMessageBytes: 1.5 } }, 'got 1.5'],
      ['limits.maxErrorStackBytes', { limits: { maxErrorStackBytes: NaN } }, 'positive integer'],
    ] as Array<[string, JobsModuleOptions, string]>)(
      'rejects a bad %s (%j)',
      (option, options, problem) => {
        const error = thrown(() => resolveJobsOptions(options));
        expect(error.option).toBe(option);
        expect(error.message).toContain(`"${option}"`);
        expect(error.message).toContain(problem);
      },
    );

    it('accepts zero prefetch, zero shutdown timeout and a negative priority', () => {
      const r = resolveJobsOptions({
        worker: { prefetch: 0, shutdownTimeoutMs: 0 },
        defaults: { priority: -10 },
      });
      expect(r.worker.prefetch).toBe(0);
      expect(r.worker.shutdownTimeoutMs).toBe(0);
      expect(r.defaults.priority).toBe(-10);
    });

    it.each([
      [60_000, 60_000],
      [5_000, 10_000],
    ])(
      'rejects a heartbeat (%d ms) that is not shorter than the lease (%d ms)',
      (lease, heartbeat) => {
        const error = thrown(() =>
          resolveJobsOptions({ worker: { leaseMs: lease, heartbeatIntervalMs: heartbeat } }),
        );
        expect(error.option).toBe('worker.heartbeatIntervalMs');
        expect(error.message).toContain(
          `(${heartbeat}) must be shorter than worker.leaseMs (${lease})`,
        );
        expect(error.message).toContain('leases expire between heartbeats');
      },
    );

    it('checks the heartbeat against the default lease too', () => {
      const error = thrown(() => resolveJobsOptions({ worker: { heartbeatIntervalMs: 60_000 } }));
      expect(error.message).toContain('worker.leaseMs (60000)');
      expect(resolveJobsOptions({ worker: { heartbeatIntervalMs: 59_999 } }).worker.leaseMs).toBe(
        60_000,
      );
    });

    it.each([
      ['empty', []],
      ['an empty name', ['mail', '']],
      ['a non-string', ['mail', 7]],
      ['not an array', 'mail'],
    ])('rejects worker.queues that is %s', (_what, queues) => {
      const error = thrown(() => resolveJobsOptions({ worker: { queues: queues as never } }));
      expect(error.option).toBe('worker.queues');
      expect(error.message).toContain("['*'] for every queue");
    });

    it.each([
      ['type', { type: 'random' }, 'must be one of exponential, polynomial, linear, fixed'],
      ['baseMs', { baseMs: -1 }, 'non-negative integer, got -1'],
      ['maxMs', { maxMs: 1.5 }, 'non-negative integer, got 1.5'],
      ['jitter', { jitter: 1.5 }, 'between 0 and 1'],
      ['jitter', { jitter: -0.1 }, 'between 0 and 1'],
      ['jitter', { jitter: NaN }, 'between 0 and 1'],
    ])('rejects a bad defaults.backoff.%s (%j)', (field, backoff, problem) => {
      const error = thrown(() => resolveJobsOptions({ defaults: { backoff: backoff as never } }));
      expect(error.option).toBe(`defaults.backoff.${field}`);
      expect(error.message).toContain(problem);
    });
  });
});

describe('validateBackoff', () => {
  it('accepts every built-in type, a function, and an empty policy', () => {
    for (const type of ['exponential', 'polynomial', 'linear', 'fixed'] as const) {
      expect(() => validateBackoff('p', { type })).not.toThrow();
    }
    expect(() => validateBackoff('p', { type: () => 5 })).not.toThrow();
    expect(() => validateBackoff('p', {})).not.toThrow();
    expect(() => validateBackoff('p', { baseMs: 0, maxMs: 0, jitter: 0 })).not.toThrow();
    expect(() => validateBackoff('p', { jitter: 1 })).not.toThrow();
  });

  it('prefixes the option with the given path', () => {
    const error = thrown(() => validateBackoff('@Job "x" backoff', { baseMs: -1 }));
    expect(error.option).toBe('@Job "x" backoff.baseMs');
  });
});
