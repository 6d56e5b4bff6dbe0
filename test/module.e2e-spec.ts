import {
  Inject,
  Injectable,
  Module,
  OnModuleInit,
  Scope,
  type DynamicModule,
  type ModuleMetadata,
  type Provider,
} from '@nestjs/common';
import { REQUEST } from '@nestjs/core';
import type { TestingModule } from '@nestjs/testing';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import {
  InvalidJobsOptionsError,
  Job,
  JobDefinitionError,
  JobHandler,
  JobQueueService,
  JobRecord,
  JobsModule,
  JobsModuleOptions,
  JobWorker,
} from 'nestjs-tenant-jobs';
import {
  createTestDatabase,
  schemaExists,
  tablesOf,
  TestDatabase,
  withClient,
} from './support/database';
import { startTestApp } from './support/jobs-app';
import { waitForJobState } from './support/jobs';

// ---------------------------------------------------------------------------------------------
// Jobs and helpers
// ---------------------------------------------------------------------------------------------

@Job({ name: 'module.echo', tenant: 'none' })
class EchoJob implements JobHandler<{ text: string }, string> {
  perform(payload: { text: string }): string {
    return payload.text;
  }
}

/** Identifies the application that performed a job (each app provides its own value). */
const APP_TAG = 'APP_TAG';

@Job({ name: 'module.whoami', tenant: 'none' })
class WhoAmIJob implements JobHandler<Record<string, never>, string> {
  constructor(@Inject(APP_TAG) private readonly tag: string) {}
  perform(): string {
    return this.tag;
  }
}

const POLL = { pollIntervalMs: 50 };

/** Every application a test starts; closed in afterEach (after a test's own assertions). */
const started: TestingModule[] = [];

async function closeAll(): Promise<void> {
  await Promise.all(started.splice(0).map((app) => app.close()));
}

/** Compiles and initialises an application the way a user's AppModule would be. */
async function startApp(metadata: ModuleMetadata): Promise<TestingModule> {
  const app = await startTestApp(metadata, 'module suite app');
  started.push(app);
  return app;
}

/** Compiles and initialises an application that is expected to fail; returns the error. */
async function startupError(metadata: ModuleMetadata): Promise<Error> {
  const error = await startApp(metadata).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(Error);
  return error as Error;
}

function typeorm(url: string, name?: string): DynamicModule {
  return TypeOrmModule.forRoot({ type: 'postgres', url, name, extra: { max: 5 } });
}

/** Enqueues an EchoJob and waits for it to complete: the queue works end to end. */
async function expectWorkingQueue(app: TestingModule, text = 'hello'): Promise<JobRecord> {
  const jobs = app.get(JobQueueService);
  const id = await jobs.performLater(EchoJob, { text });
  const job = await waitForJobState(jobs, id, 'completed');
  expect(job.result).toBe(text);
  return job;
}

afterEach(closeAll);

// ---------------------------------------------------------------------------------------------
// Ways to configure the module
// ---------------------------------------------------------------------------------------------

/** A user's configuration module (stands in for @nestjs/config). */
@Injectable()
class Settings {
  readonly queue = 'configured';
  readonly pollIntervalMs = 50;
}

@Module({ providers: [Settings], exports: [Settings] })
class SettingsModule {}

/** A class that builds the options (`useClass` / `useExisting`), with its own dependencies. */
@Injectable()
class JobsConfig {
  constructor(private readonly settings: Settings) {}
  createJobsOptions(): JobsModuleOptions {
    return {
      runMigrations: true,
      defaults: { queue: `${this.settings.queue}-by-class` },
      worker: { pollIntervalMs: this.settings.pollIntervalMs },
    };
  }
}

@Module({ imports: [SettingsModule], providers: [JobsConfig], exports: [JobsConfig] })
class JobsConfigModule {}

/** A feature module whose service enqueues; it does not import JobsModule (global by default). */
@Injectable()
class Greeter {
  constructor(private readonly jobs: JobQueueService) {}
  greetLater(text: string): Promise<string> {
    return this.jobs.performLater(EchoJob, { text });
  }
}

@Module({ providers: [Greeter], exports: [Greeter] })
class GreeterModule {}

describe('JobsModule configuration', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await closeAll();
    await db?.drop();
  });

  it('forRoot(options) gives a working queue', async () => {
    const app = await startApp({
      imports: [typeorm(db.url), JobsModule.forRoot({ runMigrations: true, worker: POLL })],
      providers: [EchoJob],
    });
    const job = await expectWorkingQueue(app, 'forRoot');
    expect(job.queue).toBe('default');
    expect(app.get(JobWorker).isRunning).toBe(true);
  });

  it('forRoot works beside ClsModule.forRoot, as in a typical app', async () => {
    const app = await startApp({
      imports: [
        ClsModule.forRoot({ global: true }),
        typeorm(db.url),
        JobsModule.forRoot({ runMigrations: true, worker: POLL }),
      ],
      providers: [EchoJob],
    });
    await expectWorkingQueue(app, 'with cls');
  });

  it('is global by default: a feature module injects JobQueueService without importing it', async () => {
    const app = await startApp({
      imports: [
        typeorm(db.url),
        JobsModule.forRoot({ runMigrations: true, worker: POLL }),
        GreeterModule,
      ],
      providers: [EchoJob],
    });
    const id = await app.get(Greeter).greetLater('from a feature module');
    const job = await waitForJobState(app.get(JobQueueService), id, 'completed');
    expect(job.result).toBe('from a feature module');
  });

  it('isGlobal: false keeps JobQueueService out of modules that do not import JobsModule', async () => {
    const error = await startupError({
      imports: [
        TypeOrmModule.forRoot({ type: 'postgres', url: db.url, manualInitialization: true }),
        JobsModule.forRoot({ isGlobal: false }),
        GreeterModule,
      ],
    });
    expect(error.message).toContain('JobQueueService');
    expect(error.message).toContain('GreeterModule');
  });

  it('forRootAsync({ imports, inject, useFactory }) gives a working queue with the factory options', async () => {
    const factory = jest.fn(async (settings: Settings): Promise<JobsModuleOptions> => ({
      runMigrations: true,
      defaults: { queue: settings.queue },
      worker: { pollIntervalMs: settings.pollIntervalMs },
    }));
    const app = await startApp({
      imports: [
        typeorm(db.url),
        JobsModule.forRootAsync({
          imports: [SettingsModule],
          inject: [Settings],
          useFactory: factory,
        }),
      ],
      providers: [EchoJob],
    });
    const job = await expectWorkingQueue(app, 'forRootAsync');
    expect(job.queue).toBe('configured');
    expect(factory).toHaveBeenCalledTimes(1);
    expect(factory.mock.calls[0][0]).toBeInstanceOf(Settings);
  });

  it('forRootAsync({ useClass }) gives a working queue with the options of createJobsOptions()', async () => {
    const app = await startApp({
      imports: [
        typeorm(db.url),
        JobsModule.forRootAsync({ imports: [SettingsModule], useClass: JobsConfig }),
      ],
      providers: [EchoJob],
    });
    const job = await expectWorkingQueue(app, 'useClass');
    expect(job.queue).toBe('configured-by-class');
  });

  it('forRootAsync({ useExisting }) gives a working queue with the existing provider options', async () => {
    const app = await startApp({
      imports: [
        typeorm(db.url),
        JobsModule.forRootAsync({ imports: [JobsConfigModule], useExisting: JobsConfig }),
      ],
      providers: [EchoJob],
    });
    const job = await expectWorkingQueue(app, 'useExisting');
    expect(job.queue).toBe('configured-by-class');
  });
});

/** Enqueues while the application starts, before the worker does. */
@Injectable()
class BootJobs implements OnModuleInit {
  bootJobId: string | undefined;
  constructor(private readonly jobs: JobQueueService) {}
  async onModuleInit(): Promise<void> {
    this.bootJobId = await this.jobs.performLater(EchoJob, { text: 'at boot' });
  }
}

@Module({ providers: [EchoJob, BootJobs] })
class BootModule {}

describe('JobsModule startup order', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await closeAll();
    await db?.drop();
  });

  it('has migrated and discovered jobs before other modules run onModuleInit', async () => {
    // A fresh database: the tables exist only once runMigrations has run.
    const app = await startApp({
      imports: [
        typeorm(db.url),
        JobsModule.forRoot({ runMigrations: true, worker: POLL }),
        BootModule,
      ],
    });
    const id = app.get(BootJobs).bootJobId!;
    expect(id).toMatch(/^\d+$/);
    const job = await waitForJobState(app.get(JobQueueService), id, 'completed');
    expect(job.result).toBe('at boot');
  });
});

// ---------------------------------------------------------------------------------------------
// Named DataSource
// ---------------------------------------------------------------------------------------------

describe('JobsModule on a named DataSource', () => {
  let appDb: TestDatabase;
  let jobsDb: TestDatabase;

  beforeAll(async () => {
    [appDb, jobsDb] = await Promise.all([createTestDatabase(), createTestDatabase()]);
  });

  afterAll(async () => {
    await closeAll();
    await Promise.all([appDb?.drop(), jobsDb?.drop()]);
  });

  async function jobRowIn(url: string, id: string): Promise<{ name: string; state: string }> {
    return withClient(url, async (c) => {
      const { rows } = await c.query<{ name: string; state: string }>(
        'select name, state from jobs.jobs where id = $1',
        [id],
      );
      return rows[0];
    });
  }

  it('forRoot({ dataSourceName }) keeps the jobs in that database', async () => {
    const app = await startApp({
      imports: [
        typeorm(appDb.url),
        typeorm(jobsDb.url, 'jobsdb'),
        JobsModule.forRoot({ runMigrations: true, worker: POLL, dataSourceName: 'jobsdb' }),
      ],
      providers: [EchoJob],
    });
    const job = await expectWorkingQueue(app, 'named');

    expect(await tablesOf(jobsDb.url, 'jobs')).toEqual([
      'flow_windows',
      'jobs',
      'paused',
      'recurring_executions',
      'workers',
    ]);
    expect(await jobRowIn(jobsDb.url, job.id)).toEqual({ name: 'module.echo', state: 'completed' });
    // Nothing was created in the default DataSource's database.
    expect(await schemaExists(appDb.url, 'jobs')).toBe(false);
  });

  it('forRootAsync({ dataSourceName, useFactory }) works with only the named DataSource', async () => {
    const app = await startApp({
      imports: [
        typeorm(jobsDb.url, 'jobsdb'),
        JobsModule.forRootAsync({
          dataSourceName: 'jobsdb',
          useFactory: () => ({ runMigrations: true, worker: POLL }),
        }),
      ],
      providers: [EchoJob],
    });
    const job = await expectWorkingQueue(app, 'named async');
    expect(await jobRowIn(jobsDb.url, job.id)).toEqual({ name: 'module.echo', state: 'completed' });
    expect(await schemaExists(appDb.url, 'jobs')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Invalid options
// ---------------------------------------------------------------------------------------------

describe('JobsModule with invalid options', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await closeAll();
    await db?.drop();
  });

  // The failing app is never closed by Nest (compile() throws), so its DataSource is created but not
  // connected, leaving no pool behind.
  const lazyTypeorm = (): DynamicModule =>
    TypeOrmModule.forRoot({ type: 'postgres', url: db.url, manualInitialization: true });

  async function optionsError(options: JobsModuleOptions): Promise<InvalidJobsOptionsError> {
    const error = await startupError({
      imports: [lazyTypeorm(), JobsModule.forRoot(options)],
      providers: [EchoJob],
    });
    expect(error).toBeInstanceOf(InvalidJobsOptionsError);
    return error as InvalidJobsOptionsError;
  }

  it('worker.concurrency: 0 stops startup, naming the option and what it must be', async () => {
    const error = await optionsError({ worker: { concurrency: 0 } });
    expect(error.option).toBe('worker.concurrency');
    expect(error.message).toBe(
      'JobsModule option "worker.concurrency" must be a positive integer, got 0.',
    );
  });

  it('schema: "Bad-Name" stops startup, naming the option, the rule and the value', async () => {
    const error = await optionsError({ schema: 'Bad-Name' });
    expect(error.option).toBe('schema');
    expect(error.message).toBe(
      'JobsModule option "schema" must be a lower-case PostgreSQL identifier (letters, digits, _), ' +
        'got "Bad-Name".',
    );
  });

  it('tenant: { clsKey: "" } stops startup with an example of the fix', async () => {
    const error = await optionsError({ tenant: { clsKey: '' } });
    expect(error.option).toBe('tenant.clsKey');
    expect(error.message).toContain('JobsModule option "tenant.clsKey"');
    expect(error.message).toContain("e.g. { tenant: { clsKey: 'accountId' } }");
  });

  it('a heartbeat not shorter than the lease stops startup, naming both values', async () => {
    const error = await optionsError({ worker: { leaseMs: 5_000, heartbeatIntervalMs: 5_000 } });
    expect(error.option).toBe('worker.heartbeatIntervalMs');
    expect(error.message).toBe(
      'JobsModule option "worker.heartbeatIntervalMs" (5000) must be shorter than worker.leaseMs ' +
        '(5000), or leases expire between heartbeats.',
    );
  });

  it('options from forRootAsync are validated the same way', async () => {
    const error = await startupError({
      imports: [
        lazyTypeorm(),
        JobsModule.forRootAsync({ useFactory: async () => ({ worker: { queues: [] } }) }),
      ],
    });
    expect(error).toBeInstanceOf(InvalidJobsOptionsError);
    expect(error.message).toContain('"worker.queues" must be a non-empty array');
  });
});

// ---------------------------------------------------------------------------------------------
// Job discovery
// ---------------------------------------------------------------------------------------------

@Injectable()
class Punctuation {
  readonly mark = '!';
}

@Job({ name: 'discovery.class', tenant: 'none' })
class ClassProviderJob implements JobHandler<{ n: number }, string> {
  constructor(private readonly punctuation: Punctuation) {}
  perform(payload: { n: number }): string {
    return `class ${payload.n}${this.punctuation.mark}`;
  }
}

@Job({ name: 'discovery.value', tenant: 'none' })
class ValueProviderJob implements JobHandler<{ n: number }, string> {
  constructor(private readonly label: string) {}
  perform(payload: { n: number }): string {
    return `${this.label} ${payload.n}`;
  }
}

@Job({ name: 'discovery.factory', tenant: 'none' })
class FactoryProviderJob implements JobHandler<{ n: number }, string> {
  constructor(private readonly label: string) {}
  perform(payload: { n: number }): string {
    return `${this.label} ${payload.n}`;
  }
}

@Job({ name: 'discovery.nested', tenant: 'none' })
class NestedModuleJob implements JobHandler<{ n: number }, string> {
  constructor(private readonly punctuation: Punctuation) {}
  perform(payload: { n: number }): string {
    return `nested ${payload.n}${this.punctuation.mark}`;
  }
}

@Module({ providers: [Punctuation, NestedModuleJob] })
class BillingModule {}

@Module({ imports: [BillingModule] })
class FeaturesModule {}

describe('@Job discovery', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await closeAll();
    await db?.drop();
  });

  function appWith(providers: Provider[], imports: ModuleMetadata['imports'] = []): ModuleMetadata {
    return {
      imports: [
        typeorm(db.url),
        JobsModule.forRoot({ runMigrations: true, worker: POLL }),
        ...imports,
      ],
      providers,
    };
  }

  it('finds and performs class, useValue, useFactory and nested-module jobs', async () => {
    const app = await startApp(
      appWith(
        [
          Punctuation,
          ClassProviderJob,
          { provide: 'VALUE_JOB', useValue: new ValueProviderJob('value') },
          { provide: 'LABEL', useValue: 'factory' },
          {
            provide: FactoryProviderJob,
            useFactory: (label: string) => new FactoryProviderJob(label),
            inject: ['LABEL'],
          },
        ],
        [FeaturesModule],
      ),
    );
    const jobs = app.get(JobQueueService);
    const ids = await Promise.all([
      jobs.performLater(ClassProviderJob, { n: 1 }),
      jobs.performLater(ValueProviderJob, { n: 2 }),
      jobs.performLater(FactoryProviderJob, { n: 3 }),
      jobs.performLater(NestedModuleJob, { n: 4 }),
    ]);
    const done = await Promise.all(ids.map((id) => waitForJobState(jobs, id, 'completed')));
    expect(done.map((j) => [j.name, j.result])).toEqual([
      ['discovery.class', 'class 1!'],
      ['discovery.value', 'value 2'],
      ['discovery.factory', 'factory 3'],
      ['discovery.nested', 'nested 4!'],
    ]);
  });

  it('refuses two @Job classes with the same name, naming both', async () => {
    @Job({ name: 'module.echo', tenant: 'none' })
    class OtherEchoJob implements JobHandler {
      perform(): void {}
    }
    const error = await startupError(appWith([EchoJob, OtherEchoJob]));
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect(error.message).toContain('Two jobs are named "module.echo": EchoJob and OtherEchoJob.');
    expect(error.message).toContain('rename one of them in its @Job({ name }) options');
  });

  it('refuses two same-named jobs in different modules', async () => {
    @Job({ name: 'discovery.nested', tenant: 'none' })
    class ShadowJob implements JobHandler {
      perform(): void {}
    }
    const error = await startupError(appWith([ShadowJob], [FeaturesModule]));
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect(error.message).toMatch(/NestedModuleJob and ShadowJob|ShadowJob and NestedModuleJob/);
  });

  it('refuses a @Job class without perform, naming it', async () => {
    @Job({ name: 'discovery.no-perform', tenant: 'none' })
    class NoPerformJob {
      execute(): void {}
    }
    const error = await startupError(appWith([NoPerformJob]));
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect(error.message).toBe(
      'NoPerformJob is decorated with @Job but has no perform(payload, ctx) method. Implement JobHandler.',
    );
  });

  it('refuses a request-scoped @Job with a clear error', async () => {
    @Injectable({ scope: Scope.REQUEST })
    @Job({ name: 'discovery.request-scoped', tenant: 'none' })
    class RequestScopedJob implements JobHandler {
      perform(): void {}
    }
    const error = await startupError(appWith([RequestScopedJob]));
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect(error.message).toContain('RequestScopedJob is a request-scoped (or transient) provider');
    expect(error.message).toContain('Jobs run outside any HTTP request');
    expect(error.message).toContain('must be a singleton');
  });

  it('refuses a @Job that depends on REQUEST with a clear error', async () => {
    @Job({ name: 'discovery.needs-request', tenant: 'none' })
    class NeedsRequestJob implements JobHandler {
      constructor(@Inject(REQUEST) readonly request: unknown) {}
      perform(): void {}
    }
    const error = await startupError(appWith([NeedsRequestJob]));
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect(error.message).toContain('NeedsRequestJob is a request-scoped (or transient) provider');
  });

  it('refuses a transient @Job (its instance would never be constructed)', async () => {
    @Injectable({ scope: Scope.TRANSIENT })
    @Job({ name: 'discovery.transient', tenant: 'none' })
    class TransientJob implements JobHandler {
      perform(): void {}
    }
    const error = await startupError(appWith([TransientJob]));
    expect(error).toBeInstanceOf(JobDefinitionError);
    expect(error.message).toContain('TransientJob is a request-scoped (or transient) provider');
  });
});

// ---------------------------------------------------------------------------------------------
// Enqueue-only processes
// ---------------------------------------------------------------------------------------------

describe('worker: { enabled: false }', () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await closeAll();
    await db?.drop();
  });

  function appTagged(tag: string, enabled: boolean): ModuleMetadata {
    return {
      imports: [
        typeorm(db.url),
        JobsModule.forRoot({ runMigrations: true, worker: { ...POLL, enabled } }),
      ],
      providers: [WhoAmIJob, { provide: APP_TAG, useValue: tag }],
    };
  }

  it('enqueues without performing; a process with a worker then performs the jobs', async () => {
    const producer = await startApp(appTagged('producer', false));
    const producerJobs = producer.get(JobQueueService);
    expect(producer.get(JobWorker).isRunning).toBe(false);

    const ids = await producerJobs.performAllLater(WhoAmIJob, [
      { payload: {} },
      { payload: {} },
      { payload: {} },
    ]);
    for (const id of ids) {
      expect(await producerJobs.find(id)).toMatchObject({ state: 'available', attempts: 0 });
    }
    // No worker of the producer is registered.
    expect(await withClient(db.url, (c) => c.query('select id from jobs.workers'))).toMatchObject({
      rowCount: 0,
    });

    const consumer = await startApp(appTagged('consumer', true));
    expect(consumer.get(JobWorker).isRunning).toBe(true);
    const done = await Promise.all(ids.map((id) => waitForJobState(producerJobs, id, 'completed')));
    // All performed by the consumer: the producer never ran any of them.
    expect(done.map((j) => [j.result, j.attempts])).toEqual(ids.map(() => ['consumer', 1]));
    const { rows } = await withClient(db.url, (c) =>
      c.query<{ id: string }>('select id from jobs.workers'),
    );
    expect(rows.map((r) => r.id)).toEqual([consumer.get(JobWorker).id]);
  });
});

// ---------------------------------------------------------------------------------------------
// Custom schema
// ---------------------------------------------------------------------------------------------

describe("schema: 'myjobs'", () => {
  let db: TestDatabase;

  beforeAll(async () => {
    db = await createTestDatabase();
  });

  afterAll(async () => {
    await closeAll();
    await db?.drop();
  });

  it('creates the tables in that schema at startup and keeps the jobs there', async () => {
    const app = await startApp({
      imports: [
        typeorm(db.url),
        JobsModule.forRoot({ schema: 'myjobs', runMigrations: true, worker: POLL }),
      ],
      providers: [EchoJob],
    });
    expect(await tablesOf(db.url, 'myjobs')).toEqual([
      'flow_windows',
      'jobs',
      'paused',
      'recurring_executions',
      'workers',
    ]);
    expect(await schemaExists(db.url, 'jobs')).toBe(false);

    const job = await expectWorkingQueue(app, 'in myjobs');
    const { rows } = await withClient(db.url, (c) =>
      c.query<{ state: string }>('select state from myjobs.jobs where id = $1', [job.id]),
    );
    expect(rows).toEqual([{ state: 'completed' }]);
    expect(await schemaExists(db.url, 'jobs')).toBe(false);
  });
});
