/** Metadata key under which `@Job` stores its options on the class. */
export const JOB_METADATA = 'jobs:job';
/** CLS key holding the id of the job being performed. */
export const JOB_ID_CLS_KEY = 'jobs:jobId';
/** Injection token of the resolved (defaulted, validated) options. */
export const RESOLVED_JOBS_OPTIONS = Symbol('RESOLVED_JOBS_OPTIONS');
/** Metadata key under which `@Recurring` stores its schedules on the class. */
export const RECURRING_METADATA = 'jobs:recurring';
