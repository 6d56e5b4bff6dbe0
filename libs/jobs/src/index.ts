// The package's public API, every export listed by name: anything not here is internal.

// Module and options
export { JobsModule } from './jobs.module';
export { JOBS_MODULE_OPTIONS } from './jobs.module-definition';
export type { JobsModuleExtras } from './jobs.module-definition';
export { JOB_ID_CLS_KEY } from './jobs.constants';
export type {
  JobDefaults,
  JobsModuleOptions,
  RecurringModuleOptions,
  LimitsOptions,
  RetentionOptions,
  TenantOptions,
  WorkerOptions,
} from './interfaces';

// Jobs: decorators, handler contract, options
export { Job } from './decorators/job.decorator';
export { Recurring } from './decorators/recurring.decorator';
export type {
  AccountResolver,
  AccountSource,
  BackoffFunction,
  BackoffOptions,
  JobContext,
  JobHandler,
  JobOptions,
  RecurringOptions,
  ScheduleDefinition,
} from './interfaces';

// The queue
export { JobQueueService } from './queue/job-queue.service';
export type {
  BulkJob,
  EnqueueOptions,
  FailedJobsFilter,
  FailedJobsPage,
  FinishedJobState,
  JobClass,
  JobErrorRecord,
  JobRecord,
  JobState,
  PerformNowOptions,
  PurgeOptions,
  QueueStateCount,
} from './interfaces';

// The worker
export { JobWorker } from './worker/job-worker';
export { JobInvoker } from './worker/job-invoker';
export type { HandlerInvoker, InvokedJob } from './interfaces';

// Migrations
export { createJobsMigrations, jobsMigrations } from './persistence/migrations';

// Errors
export {
  AccountUnavailableError,
  DiscardJobError,
  EnqueueFailedError,
  InvalidAccountIdError,
  InvalidArgumentError,
  InvalidEnqueueOptionsError,
  InvalidJobsOptionsError,
  InvalidPayloadError,
  InvalidSnoozeError,
  JobCancelledError,
  JobDefinitionError,
  JobsError,
  JobsSchemaError,
  JobTimeoutError,
  MissingDependencyError,
  MissingTenantError,
  ResultNotStorableError,
  UnknownJobError,
  WorkerShutdownError,
} from './errors';
export type { JobsSchemaProblem, PayloadFieldError } from './errors';
