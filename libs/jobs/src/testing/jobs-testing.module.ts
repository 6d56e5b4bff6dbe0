import { DynamicModule, Module } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { ClsModule } from 'nestjs-cls';
import { JobRegistry } from '../discovery/job.registry';
import { JobsExplorer } from '../discovery/jobs.explorer';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import { resolveJobsOptions } from '../jobs-options';
import { JOB_STORE } from '../persistence/job-store';
import { PAUSE_STORE } from '../persistence/pause-store';
import { EnqueuePipeline } from '../queue/enqueue-pipeline';
import { JobFlowControl } from '../queue/flow-control.service';
import { JobQueueService } from '../queue/job-queue.service';
import { OncePerTick } from '../queue/once-per-tick';
import { TenantContext } from '../tenancy/tenant-context';
import { JobInvoker } from '../worker/job-invoker';
import { JobRunner } from '../worker/job-runner';
import { PerformNowRunner } from '../worker/perform-now.runner';
import { CapturedJobRunner } from './captured-job-runner';
import { InMemoryJobStore } from './in-memory-job.store';
import { JobsTestHelper } from './jobs-test.helper';
import { JOBS_TESTING_MODE, JobsTestingOptions } from './jobs-testing.options';

/**
 * `JobsModule` for unit tests, without PostgreSQL: no TypeORM, no DataSource, no worker, no recurring
 * schedules. The app's `@Job` providers are discovered as usual and the real `JobQueueService` writes to an
 * in-memory store (`InMemoryJobStore`, provided as the `JobStore`) that captures jobs (`mode: 'capture'`)
 * or performs them at once (`mode: 'inline'`), after the same validation and tenant rules as production.
 * Inspect and perform captured jobs with `JobsTestHelper`. Global, like `JobsModule`.
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
        JobInvoker, // as in JobsModule: overrideProvider(JobInvoker) wraps every perform here too
        JobRunner,
        CapturedJobRunner,
        JobsTestHelper,
        InMemoryJobStore,
        // The one difference from JobsModule's queue: the store behind it.
        { provide: JOB_STORE, useExisting: InMemoryJobStore },
        EnqueuePipeline,
        OncePerTick,
        PerformNowRunner,
        JobQueueService,
        // Injectable like in JobsModule; its calls reject: pausing needs a worker and a database.
        { provide: PAUSE_STORE, useExisting: InMemoryJobStore },
        JobFlowControl,
      ],
      exports: [JobQueueService, JobRegistry, JobsTestHelper, JobFlowControl],
    };
  }
}
