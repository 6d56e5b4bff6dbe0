/** Tokens and metadata keys used inside the library only; none of them is exported from the package. */

/** Metadata key under which `@Job` stores its options on the class. */
export const JOB_METADATA = 'jobs:job';
/** Injection token of the resolved (defaulted, validated) options. */
export const RESOLVED_JOBS_OPTIONS = Symbol('RESOLVED_JOBS_OPTIONS');
/** Metadata key under which `@Recurring` stores its schedules on the class. */
export const RECURRING_METADATA = 'jobs:recurring';
