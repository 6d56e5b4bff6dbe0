import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule, ModuleRef } from '@nestjs/core';
import { ClsModule } from 'nestjs-cls';
import { JobRegistry } from '../discovery/job.registry';
import { JobsExplorer } from '../discovery/jobs.explorer';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import { ResolvedJobsOptions, resolveJobsOptions } from '../jobs-options';
import { JobQueueService } from '../queue/job-queue.service';
import { TenantContext } from '../tenancy/tenant-context';
import { JobRunner } from '../worker/job-runner';
import { CapturedJobRunner } from './captured-job-runner';
import { CapturedJobsStore } from './captured-jobs.store';
import { JobsTestHelper } from './jobs-test.helper';
import { JOBS_TESTING_MODE, JobsTestingMode, JobsTestingOptions } from './jobs-testing.options';
import { TestingJobQueue } from './testing-job-queue';

/**
 * `JobsModule` for unit tests, without PostgreSQL: no TypeORM, no DataSource, no worker, no recurring
 * schedules. The app's `@Job` providers are discovered as usual and `JobQueueService` is replaced by an
 * in-memory `TestingJobQueue` that captures jobs (`mode: 'capture'`) or performs them at once
 * (`mode: 'inline'`). Inspect and perform captured jobs with `JobsTestHelper`. Global, like `JobsModule`.
 *
 * Import `ClsModule.forRoot({ global: true })` in the testing module, as the app does: the providers under
 * test that inject `ClsService` need it, and so does the test to enter an account before it enqueues
 * (`cls.run(() => { cls.set('accountId', id); … })`). This module itself only needs the static `ClsModule`.
 *
 * For integration tests, keep using `JobsModule.forRoot()` against a real database.
 *
 * @example
 * const moduleRef = await Test.createTestingModule({
 *   imports: [
 *     ClsModule.forRoot({ global: true }),
 *     JobsTestingModule.forRoot({ mode: 'capture', tenant: { clsKey: 'accountId' } }),
 *   ],
 *   providers: [OrdersService, ConfirmOrderJob],
 * }).compile();
 * await moduleRef.init(); // discovers the @Job providers
 * const jobs = moduleRef.get(JobsTestHelper);
 */
@Module({})
export class JobsTestingModule {
  static forRoot(options: JobsTestingOptions = {}): DynamicModule {
    const { mode = 'capture', ...jobsOptions } = options;
    return {
      module: JobsTestingModule,
      global: true,
      imports: [DiscoveryModule, ClsModule],
      providers: [
        {
          provide: RESOLVED_JOBS_OPTIONS,
          // Validated like JobsModule's; worker and schedules off, as nothing here would run them.
          useFactory: () =>
            resolveJobsOptions({
              ...jobsOptions,
              worker: { enabled: false },
              recurring: { enabled: false },
              retention: false,
            }),
        },
        { provide: JOBS_TESTING_MODE, useValue: mode },
        JobRegistry,
        JobsExplorer,
        TenantContext,
        JobRunner,
        CapturedJobsStore,
        CapturedJobRunner,
        JobsTestHelper,
        {
          provide: JobQueueService,
          // A factory, not `useClass`: see the note on TestingJobQueue's constructor.
          useFactory: (
            registry: JobRegistry,
            tenancy: TenantContext,
            runner: JobRunner,
            moduleRef: ModuleRef,
            resolved: ResolvedJobsOptions,
            store: CapturedJobsStore,
            performer: CapturedJobRunner,
            testingMode: JobsTestingMode,
          ) =>
            new TestingJobQueue(
              registry,
              tenancy,
              runner,
              moduleRef,
              resolved,
              store,
              performer,
              testingMode,
            ),
          inject: [
            JobRegistry,
            TenantContext,
            JobRunner,
            ModuleRef,
            RESOLVED_JOBS_OPTIONS,
            CapturedJobsStore,
            CapturedJobRunner,
            JOBS_TESTING_MODE,
          ],
        },
      ],
      exports: [JobQueueService, JobRegistry, JobsTestHelper],
    };
  }
}
