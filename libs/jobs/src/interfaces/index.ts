export type { AccountResolver } from './account-resolver.interface';
export type { BackoffFunction, BackoffOptions } from './backoff.interface';
export type {
  BulkJob,
  EnqueueOptions,
  JobClass,
  PerformNowOptions,
} from './enqueue-options.interface';
export type { PausedEntry, PauseKind } from './flow-control.interface';
export type {
  ConcurrencyLimit,
  FlowKeyContext,
  FlowKeyFunction,
  FlowOptions,
  JobRateLimit,
  QueueFlowOptions,
  QueueRateLimit,
  RateLimit,
} from './flow-limits.interface';
export type { JobContext, JobHandler } from './job-handler.interface';
export type { HandlerInvoker, InvokedJob } from './job-invoker.interface';
export type { JobOptions } from './job-options.interface';
export type {
  FailedJobsFilter,
  OperationScope,
  FailedJobsPage,
  FinishedJobState,
  PurgeOptions,
  QueueStateCount,
} from './job-queries.interface';
export type { JobErrorRecord, JobRecord, JobState } from './job-record.interface';
export type {
  DatabaseOptions,
  JobDefaults,
  JobsModuleOptions,
  LimitsOptions,
  RecurringModuleOptions,
  RetentionOptions,
  TenantOptions,
  WorkerOptions,
} from './jobs-module-options.interface';
export type {
  AccountSource,
  RecurringOptions,
  ScheduleDefinition,
} from './recurring-options.interface';
