import {
  Inject,
  Injectable,
  Module,
  Provider,
  Scope,
  type DynamicModule,
  type Type,
} from '@nestjs/common';
import { DiscoveryModule, REQUEST } from '@nestjs/core';
import { Test, TestingModule } from '@nestjs/testing';
import { Job } from '../decorators/job.decorator';
import { JobDefinitionError, JobsError } from '../errors';
import type { JobHandler, JobsModuleOptions } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import { resolveJobsOptions } from '../jobs-options';
import { JobRegistry } from './job.registry';
import { JobsExplorer } from './jobs.explorer';

@Injectable()
class Greeter {
  greet(name: string): string {
    return `hello ${name}`;
  }
}

@Job({ name: 'class.job', tenant: 'none' })
class ClassJob implements JobHandler<{ name: string }, string> {
  constructor(readonly greeter: Greeter) {}
  perform(payload: { name: string }): string {
    return this.greeter.greet(payload.name);
  }
}

@Job({ name: 'value.job', queue: 'values', priority: 3 })
class ValueJob implements JobHandler {
  perform(): string {
    return 'value';
  }
}

@Job({
  name: 'factory.job',
  maxAttempts: 2,
  timeoutMs: 1_000,
  backoff: { type: 'fixed', baseMs: 50 },
})
class FactoryJob implements JobHandler {
  constructor(readonly label: string) {}
  perform(): string {
    return this.label;
  }
}

@Job({ name: 'nested.job' })
class NestedJob implements JobHandler {
  perform(): string {
    return 'nested';
  }
}

@Module({ providers: [NestedJob] })
class InnerModule {}

@Module({ imports: [InnerModule] })
class OuterModule {}

/** Not a job: ignored even though it has a perform method. */
@Injectable()
class NotAJob {
  perform(): void {}
}

let moduleRef: TestingModule | undefined;

async function explore(
  providers: Provider[],
  imports: Array<Type<unknown> | DynamicModule> = [],
  options: JobsModuleOptions = {},
): Promise<JobRegistry> {
  moduleRef = await Test.createTestingModule({
    imports: [DiscoveryModule, ...imports],
    providers: [
      JobsExplorer,
      JobRegistry,
      { provide: RESOLVED_JOBS_OPTIONS, useValue: resolveJobsOptions(options) },
      ...providers,
    ],
  }).compile();
  await moduleRef.init();
  return moduleRef.get(JobRegistry);
}

async function exploreError(providers: Provider[]): Promise<JobDefinitionError> {
  const error = await explore(providers).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JobDefinitionError);
  expect(error).toBeInstanceOf(JobsError);
  return error as JobDefinitionError;
}

afterEach(async () => {
  await moduleRef?.close();
  moduleRef = undefined;
});

describe('JobsExplorer', () => {
  it('registers a class provider with the module defaults, using the DI instance', async () => {
    const registry = await explore([Greeter, ClassJob]);
    const definition = registry.forType(ClassJob);
    expect(definition).toMatchObject({
      name: 'class.job',
      queue: 'default',
      priority: 0,
      maxAttempts: 25,
      timeoutMs: undefined,
      backoff: { type: 'exponential', baseMs: 1_000, maxMs: 3_600_000, jitter: 0.1 },
      payloadType: undefined,
      tenant: 'none',
      type: ClassJob,
      instance: moduleRef!.get(ClassJob),
    });
    expect(definition.instance).toBe(moduleRef!.get(ClassJob));
    expect((definition.instance as ClassJob).greeter).toBeInstanceOf(Greeter);
    expect(registry.forName('class.job')).toBe(definition);
  });

  it('applies @Job options over module defaults', async () => {
    const registry = await explore(
      [{ provide: FactoryJob, useFactory: () => new FactoryJob('f') }],
      [],
      { defaults: { queue: 'q', priority: 1, backoff: { maxMs: 500, jitter: 0 } } },
    );
    expect(registry.forType(FactoryJob)).toMatchObject({
      queue: 'q',
      priority: 1,
      maxAttempts: 2,
      timeoutMs: 1_000,
      backoff: { type: 'fixed', baseMs: 50, maxMs: 500, jitter: 0 },
      tenant: 'required',
    });
  });

  it('keeps the module default for a @Job backoff key that is present but undefined', async () => {
    @Job({ name: 'partial.backoff', backoff: { type: 'linear', baseMs: undefined } })
    class PartialBackoffJob implements JobHandler {
      perform(): void {}
    }
    const registry = await explore([PartialBackoffJob], [], {
      defaults: { backoff: { baseMs: 7 } },
    });
    expect(registry.forType(PartialBackoffJob).backoff).toStrictEqual({
      type: 'linear',
      baseMs: 7,
      maxMs: 3_600_000,
      jitter: 0.1,
    });
  });

  it('finds useValue, useFactory, useClass and nested-module jobs; ignores everything else', async () => {
    const value = new ValueJob();
    const registry = await explore(
      [
        { provide: 'VALUE_JOB', useValue: value },
        { provide: 'LABEL', useValue: 'from-factory' },
        {
          provide: 'FACTORY_JOB',
          useFactory: async (label: string) => new FactoryJob(label),
          inject: ['LABEL'],
        },
        Greeter,
        { provide: 'CLASS_JOB', useClass: ClassJob },
        NotAJob,
        { provide: 'NULL', useValue: null },
        { provide: 'NUMBER', useValue: 42 },
        { provide: 'PLAIN', useValue: { perform: () => 1 } },
      ],
      [OuterModule],
    );
    expect(
      registry
        .all()
        .map((d) => d.name)
        .sort(),
    ).toEqual(['class.job', 'factory.job', 'nested.job', 'value.job']);
    expect(registry.forType(ValueJob).instance).toBe(value);
    expect(registry.forType(ValueJob)).toMatchObject({ queue: 'values', priority: 3 });
    expect((registry.forType(FactoryJob).instance as FactoryJob).label).toBe('from-factory');
    expect(registry.forType(ClassJob).instance).toBe(moduleRef!.get('CLASS_JOB'));
    expect(registry.forType(NestedJob).instance).toBeInstanceOf(NestedJob);
  });

  it('registers a job once when it is also exposed through a useExisting alias', async () => {
    const registry = await explore([ValueJob, { provide: 'ALIAS', useExisting: ValueJob }]);
    expect(registry.all()).toHaveLength(1);
    expect(registry.forType(ValueJob).instance).toBe(moduleRef!.get(ValueJob));
  });

  it('throws a clear error for a class that is not a registered job', async () => {
    const registry = await explore([ValueJob]);
    expect(() => registry.forType(NestedJob)).toThrow(
      'NestedJob is not a registered job. Decorate it with @Job({ name })',
    );
  });

  it('refuses two job classes with the same name, naming both', async () => {
    @Job({ name: 'value.job' })
    class ValueJobCopy implements JobHandler {
      perform(): void {}
    }
    const error = await exploreError([ValueJob, ValueJobCopy]);
    expect(error.message).toContain('Two jobs are named "value.job"');
    expect(error.message).toContain('ValueJob and ValueJobCopy');
    expect(error.message).toContain('rename one of them');
  });

  it('refuses a @Job class without perform, naming it', async () => {
    @Job({ name: 'lazy' })
    class LazyJob {
      run(): void {}
    }
    const error = await exploreError([LazyJob]);
    expect(error.message).toBe(
      'LazyJob is decorated with @Job but has no perform(payload, ctx) method. Implement JobHandler.',
    );
  });

  it('refuses a useValue job instance without perform', async () => {
    @Job({ name: 'broken' })
    class BrokenJob {
      perform?: () => void;
    }
    const error = await exploreError([{ provide: 'BROKEN', useValue: new BrokenJob() }]);
    expect(error.message).toContain('BrokenJob is decorated with @Job but has no perform');
  });

  it('refuses a request-scoped @Job (scope on the class)', async () => {
    @Injectable({ scope: Scope.REQUEST })
    @Job({ name: 'scoped' })
    class ScopedJob implements JobHandler {
      perform(): void {}
    }
    const error = await exploreError([ScopedJob]);
    expect(error.message).toContain('ScopedJob is a request-scoped (or transient) provider');
    expect(error.message).toContain('must be a singleton');
  });

  // `@Job` must keep the scope an `@Injectable({ scope })` written below it (so applied first) has set.
  it('refuses a request-scoped @Job (@Job written above @Injectable({ scope }))', async () => {
    @Job({ name: 'scoped.below' })
    @Injectable({ scope: Scope.REQUEST })
    class ScopedBelowJob implements JobHandler {
      perform(): void {}
    }
    const error = await exploreError([ScopedBelowJob]);
    expect(error.message).toContain('ScopedBelowJob is a request-scoped');
  });

  it('refuses a request-scoped @Job (scope on the provider)', async () => {
    @Job({ name: 'scoped.provider' })
    class ScopedProviderJob implements JobHandler {
      perform(): void {}
    }
    const error = await exploreError([
      { provide: ScopedProviderJob, useClass: ScopedProviderJob, scope: Scope.REQUEST },
    ]);
    expect(error.message).toContain('ScopedProviderJob is a request-scoped');
  });

  it('refuses a @Job that depends on REQUEST', async () => {
    @Job({ name: 'needs.request' })
    class NeedsRequestJob implements JobHandler {
      constructor(@Inject(REQUEST) readonly request: unknown) {}
      perform(): void {}
    }
    const error = await exploreError([NeedsRequestJob]);
    expect(error.message).toContain('NeedsRequestJob is a request-scoped');
  });

  it('refuses a @Job that depends on a request-scoped provider', async () => {
    @Injectable({ scope: Scope.REQUEST })
    class PerRequest {}
    @Job({ name: 'needs.per-request' })
    class NeedsPerRequestJob implements JobHandler {
      constructor(readonly perRequest: PerRequest) {}
      perform(): void {}
    }
    const error = await exploreError([PerRequest, NeedsPerRequestJob]);
    expect(error.message).toContain('NeedsPerRequestJob is a request-scoped');
  });

  it('refuses a transient @Job', async () => {
    @Injectable({ scope: Scope.TRANSIENT })
    @Job({ name: 'transient' })
    class TransientJob implements JobHandler {
      constructor(readonly greeter: Greeter) {}
      perform(): string {
        return this.greeter.greet('x');
      }
    }
    const error = await exploreError([Greeter, TransientJob]);
    expect(error.message).toContain('TransientJob is a request-scoped (or transient) provider');
  });

  it('refuses a @Job with an empty name', async () => {
    @Job({ name: '' })
    class NamelessJob implements JobHandler {
      perform(): void {}
    }
    const error = await exploreError([NamelessJob]);
    expect(error.message).toBe('@Job on NamelessJob needs a non-empty name.');
  });

  it.each([0, 1.5, -1])('refuses @Job maxAttempts %p', async (maxAttempts) => {
    @Job({ name: 'bad.attempts', maxAttempts })
    class BadAttemptsJob implements JobHandler {
      perform(): void {}
    }
    const error = await exploreError([BadAttemptsJob]);
    expect(error.message).toBe(
      '@Job "bad.attempts" (BadAttemptsJob): maxAttempts must be a positive integer.',
    );
  });

  it.each([
    ['timeoutMs', { timeoutMs: 0 }, 'positive integer, got 0'],
    ['timeoutMs', { timeoutMs: -1 }, 'positive integer, got -1'],
    ['timeoutMs', { timeoutMs: NaN }, 'positive integer, got NaN'],
    ['timeoutMs', { timeoutMs: 30 * 86_400_000 }, 'at most 2147483647'],
    ['maxAttempts', { maxAttempts: 2 ** 31 }, 'at most 2147483647'],
    ['priority', { priority: 1e20 }, 'at most 2147483647'],
    ['priority', { priority: 0.5 }, 'must be an integer'],
    ['queue', { queue: 'q\u0000' }, 'U+0000'],
    ['queue', { queue: '*' }, 'must not be "*"'],
  ])('refuses @Job %s out of range (%j) at startup', async (option, extra, problem) => {
    @Job({ name: 'bad.range', ...extra })
    class BadRangeJob implements JobHandler {
      perform(): void {}
    }
    const error = await exploreError([BadRangeJob]);
    expect(error.message).toContain(`@Job "bad.range" (BadRangeJob): ${option} `);
    expect(error.message).toContain(problem);
  });

  it('refuses a @Job name PostgreSQL cannot store, printing it escaped', async () => {
    @Job({ name: 'bad\u0000name' })
    class NulNameJob implements JobHandler {
      perform(): void {}
    }
    const error = await exploreError([NulNameJob]);
    expect(error.message).toContain('@Job "bad\\u0000name" (NulNameJob): name ');
    expect(error.message).not.toContain('\u0000');
  });

  it('refuses an invalid @Job backoff, naming the job', async () => {
    @Job({ name: 'bad.backoff', backoff: { jitter: 2 } })
    class BadBackoffJob implements JobHandler {
      perform(): void {}
    }
    const error = await explore([BadBackoffJob]).catch((e: Error) => e);
    expect(error).toBeInstanceOf(JobsError);
    expect((error as Error).message).toBe(
      'JobsModule option "@Job "bad.backoff" backoff.jitter" must be between 0 and 1.',
    );
  });
});
