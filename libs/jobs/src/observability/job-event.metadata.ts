import type { JobEventType, OnJobEventOptions } from './job-event.types';

/** Metadata key under which `@OnJobEvent` stores its registrations on a method. */
export const JOB_EVENT_METADATA = 'jobs:on-job-event';

/** One `@OnJobEvent` on a method (a method may carry several). */
export interface JobEventRegistration {
  types: readonly JobEventType[];
  options: OnJobEventOptions;
}
