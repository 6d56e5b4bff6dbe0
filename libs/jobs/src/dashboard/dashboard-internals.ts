import { Injectable, OnModuleInit } from '@nestjs/common';
import { ModuleRef } from '@nestjs/core';
import type { ResolvedJobsOptions } from '../jobs-options';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import { DashboardRepository } from '../persistence/dashboard.repository';
import { JobsDatabase } from '../persistence/jobs-database';
import { JobFlowControl } from '../queue/flow-control.service';
import { JobQueueService } from '../queue/job-queue.service';
import { AccountSources } from '../scheduling/account-sources';
import { MountedSchedule, ScheduleCollector } from '../scheduling/schedule.collector';
import { InvalidDashboardOptionsError } from './invalid-dashboard-options.error';

/**
 * The parts of `JobsModule` the dashboard reads, found once every module is built. `JobsModule` exports
 * only its public services, so they are looked up across the app (`strict: false`) rather than imported:
 * the dashboard stays a module an app adds beside `JobsModule.forRoot`, and JobsModule knows nothing of it.
 */
@Injectable()
export class DashboardInternals implements OnModuleInit {
  queue!: JobQueueService;
  flow!: JobFlowControl;
  repository!: DashboardRepository;
  options!: ResolvedJobsOptions;
  private collector!: ScheduleCollector;
  private accountSources!: AccountSources;
  private schedules: Promise<MountedSchedule[]> | undefined;

  constructor(private readonly moduleRef: ModuleRef) {}

  /** Idempotent: other providers' `onModuleInit` may need the parts before this one's hook ran. */
  onModuleInit(): void {
    if (this.repository) return;
    try {
      this.options = this.moduleRef.get<ResolvedJobsOptions>(RESOLVED_JOBS_OPTIONS, {
        strict: false,
      });
      this.queue = this.moduleRef.get(JobQueueService, { strict: false });
      this.flow = this.moduleRef.get(JobFlowControl, { strict: false });
      this.collector = this.moduleRef.get(ScheduleCollector, { strict: false });
      this.accountSources = this.moduleRef.get(AccountSources, { strict: false });
      const db = this.moduleRef.get(JobsDatabase, { strict: false });
      this.repository = new DashboardRepository(db, this.options.schema);
    } catch (error) {
      throw new InvalidDashboardOptionsError(
        'imports',
        'found no JobsModule: import JobsModule.forRoot(...) in the app module beside JobsDashboardModule.',
        error,
      );
    }
  }

  /** The app's recurring schedules, collected (and checked) once, when first asked for. */
  mountedSchedules(): Promise<MountedSchedule[]> {
    return (this.schedules ??= this.options.recurring.enabled
      ? this.collector.collect()
      : Promise.resolve([]));
  }

  /** The accounts a `perAccount` schedule fans out to. */
  listAccountIds(): Promise<string[]> {
    return Promise.resolve(this.accountSources.get().listAccountIds());
  }
}
