import { Inject, Module, OnModuleInit, Provider } from '@nestjs/common';
import { DiscoveryModule, ModuleRef } from '@nestjs/core';
import { ClsModule } from 'nestjs-cls';
import { JobRegistry } from './discovery/job.registry';
import { JobsExplorer } from './discovery/jobs.explorer';
import type { JobsModuleOptions } from './interfaces';
import { RESOLVED_JOBS_OPTIONS } from './jobs.internal-constants';
import { JOBS_MODULE_OPTIONS, JobsConfigurableModule } from './jobs.module-definition';
import { ResolvedJobsOptions, resolveJobsOptions } from './jobs-options';
import { JobsDatabase } from './persistence/jobs-database';
import { runJobsMigrations } from './persistence/run-migrations';
import { JOB_STORE } from './persistence/job-store';
import { JobsRepository } from './persistence/jobs.repository';
import { PAUSE_STORE } from './persistence/pause-store';
import { PausedRepository } from './persistence/paused.repository';
import { TicksRepository } from './persistence/ticks.repository';
import { EnqueuePipeline } from './queue/enqueue-pipeline';
import { checkJobsSchema } from './persistence/schema-check';
import { JobFlowControl } from './queue/flow-control.service';
import { JobQueueService } from './queue/job-queue.service';
import { OncePerTick } from './queue/once-per-tick';
import { AccountSources } from './scheduling/account-sources';
import { RecurringOrchestrator } from './scheduling/recurring.orchestrator';
import { ScheduleCollector } from './scheduling/schedule.collector';
import { TickRetention } from './scheduling/tick-retention';
import { TenantContext } from './tenancy/tenant-context';
import { WorkerRepository } from './persistence/worker.repository';
import { JobInvoker } from './worker/job-invoker';
import { JobRunner } from './worker/job-runner';
import { JobWorker } from './worker/job-worker';
import { PerformNowRunner } from './worker/perform-now.runner';
import { JobEventDispatcher } from './observability/job-event.dispatcher';
import { JobEventsExplorer } from './observability/job-events.explorer';
import { JobLifecycle } from './observability/job-lifecycle';
import { ObservabilityRepository } from './persistence/observability.repository';
import { JobsHealthIndicator } from './observability/jobs-health.indicator';
import { WORKER_STATUS } from './observability/worker-status';

const providers: Provider[] = [
  {
    provide: RESOLVED_JOBS_OPTIONS,
    useFactory: (options: JobsModuleOptions) => resolveJobsOptions(options),
    inject: [JOBS_MODULE_OPTIONS],
  },
  JobRegistry,
  JobsExplorer,
  TenantContext,
  {
    // The `invoker` option's class, built by the module's injector; tests may override JobInvoker itself.
    provide: JobInvoker,
    useFactory: (options: ResolvedJobsOptions, moduleRef: ModuleRef) =>
      options.invoker ? moduleRef.create(options.invoker) : new JobInvoker(),
    inject: [RESOLVED_JOBS_OPTIONS, ModuleRef],
  },
  JobRunner,
  WorkerRepository,
  JobWorker,
  // The queue, on PostgreSQL (JobsTestingModule provides an in-memory JOB_STORE instead).
  JobsRepository,
  TicksRepository,
  { provide: JOB_STORE, useExisting: JobsRepository },
  EnqueuePipeline,
  OncePerTick,
  PerformNowRunner,
  JobQueueService,
  // Recurring schedules.
  AccountSources,
  ScheduleCollector,
  RecurringOrchestrator,
  TickRetention,
  // Pause and resume (the worker reads the same table).
  PausedRepository,
  { provide: PAUSE_STORE, useExisting: PausedRepository },
  JobFlowControl,
  // Observability: @OnJobEvent listeners, and the port the queue and the worker report to.
  JobEventDispatcher,
  JobEventsExplorer,
  JobLifecycle,
  ObservabilityRepository,
  { provide: WORKER_STATUS, useExisting: JobWorker },
  JobsHealthIndicator,
];

/**
 * Durable, tenant-aware background jobs on PostgreSQL. Import once in the app module with
 * `JobsModule.forRoot(options)` or `JobsModule.forRootAsync({ useFactory, inject, imports })`; it is global
 * by default (`isGlobal: true`), so `JobQueueService` can be injected anywhere.
 */
@Module({
  imports: [DiscoveryModule, ClsModule],
  providers,
  exports: [JobQueueService, JobWorker, JobRegistry, JobFlowControl, JobsHealthIndicator],
})
export class JobsModule extends JobsConfigurableModule implements OnModuleInit {
  constructor(
    private readonly db: JobsDatabase,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {
    super();
  }

  /** Applies the library's migrations (`runMigrations: true`), or else checks that they ran. */
  async onModuleInit(): Promise<void> {
    if (this.options.runMigrations) {
      await runJobsMigrations(this.db.dataSource, this.options.schema);
    } else {
      await checkJobsSchema(this.db, this.options.schema);
    }
  }
}
