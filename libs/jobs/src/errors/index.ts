export { AccountUnavailableError } from './account-unavailable.error';
export { DiscardJobError } from './discard-job.error';
export { EnqueueFailedError } from './enqueue-failed.error';
export { InvalidEnqueueOptionsError } from './invalid-enqueue-options.error';
export { InvalidJobsOptionsError } from './invalid-jobs-options.error';
export { InvalidPayloadError } from './invalid-payload.error';
export type { PayloadFieldError } from './invalid-payload.error';
export { JobCancelledError } from './job-cancelled.error';
export { JobDefinitionError } from './job-definition.error';
export { JobTimeoutError } from './job-timeout.error';
export { JobsError } from './jobs.error';
export { JobsSchemaError } from './jobs-schema.error';
export type { JobsSchemaProblem } from './jobs-schema.error';
export { MissingDependencyError } from './missing-dependency.error';
export { MissingTenantError } from './missing-tenant.error';
export { UnknownJobError } from './unknown-job.error';
export { WorkerShutdownError } from './worker-shutdown.error';
// Internal (not re-exported by the package's index): coerces a thrown value before it is stored or logged.
export { toError } from './to-error';
