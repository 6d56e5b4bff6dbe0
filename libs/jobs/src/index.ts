// The package's public API, every export listed by name: anything not here is internal.

// Module and options
export { JobsModule } from './jobs.module';
export { JOBS_MODULE_OPTIONS } from './jobs.module-definition';
export type { JobsModuleExtras } from './jobs.module-definition';
export { JOB_ID_CLS_KEY } from './jobs.constants';
export type {
  DatabaseOptions,
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
  OperationScope,
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
export { JobFlowControl } from './queue/flow-control.service';
export type { PausedEntry, PauseKind } from './interfaces';
export type {
  ConcurrencyLimit,
  FlowKeyContext,
  FlowKeyFunction,
  FlowOptions,
  JobRateLimit,
  QueueFlowOptions,
  QueueRateLimit,
  RateLimit,
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
  CrossDatabaseTransactionError,
  DiscardJobError,
  EnqueueFailedError,
  ForeignAccountError,
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

// The dashboard
export { JobsDashboardModule } from './dashboard/jobs-dashboard.module';
export { JOBS_DASHBOARD_MODULE_OPTIONS } from './dashboard/jobs-dashboard.module-definition';
export { InvalidDashboardOptionsError } from './dashboard/invalid-dashboard-options.error';
export type {
  DashboardScope,
  JobsDashboardModuleOptions,
  JobsDashboardMountOptions,
} from './dashboard/jobs-dashboard.options';
// Observability
export { OnJobEvent } from './decorators/on-job-event.decorator';
export { JobsHealthIndicator } from './observability/jobs-health.indicator';
export type { JobsHealthOptions } from './observability/jobs-health.indicator';
export { JOB_EVENT_TYPES } from './observability/job-event.types';
export type {
  JobAttemptEndedBase,
  JobCancelledEvent,
  JobCompletedEvent,
  JobEnqueuedEvent,
  JobEvent,
  JobEventBase,
  JobEventOf,
  JobEventType,
  JobFailedEvent,
  JobProgressEvent,
  JobRetryingEvent,
  JobSnoozedEvent,
  JobStartedEvent,
  JobsRescuedEvent,
  OnJobEventOptions,
} from './observability/job-event.types';
export type {
  JobsLoggingOptions,
  ObservabilityOptions,
} from './interfaces/observability-options.interface';
