export { JobsModule } from './jobs.module';
export { JOBS_MODULE_OPTIONS } from './jobs.module-definition';
export { Job } from './decorators/job.decorator';
export { Recurring } from './decorators/recurring.decorator';
export { JobQueueService } from './queue/job-queue.service';
export type { FailedJobsFilter, QueueStateCount } from './queue/job-queue.service';
export type {
  BulkJob,
  EnqueueOptions,
  JobClass,
  PerformNowOptions,
} from './interfaces/enqueue-options.interface';
export { JobWorker } from './worker/job-worker';
export { JOB_ID_CLS_KEY } from './jobs.constants';
export { createJobsMigrations, jobsMigrations } from './persistence/migrations';
export { JobEntity } from './persistence/job.entity';
export * from './interfaces';
export * from './errors';
