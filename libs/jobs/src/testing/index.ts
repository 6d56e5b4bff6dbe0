/**
 * `nestjs-tenant-jobs/testing`: test the code that enqueues and performs jobs without PostgreSQL.
 * `JobsTestingModule.forRoot({ mode })` replaces `JobsModule` in a testing module; `JobsTestHelper` lists,
 * asserts and performs the captured jobs; `jobsMatchers` adds `expect(helper).toHaveEnqueued(...)`.
 */
export { JobsTestingModule } from './jobs-testing.module';
export { JOBS_TESTING_MODE } from './jobs-testing.options';
export type { JobsTestingMode, JobsTestingOptions } from './jobs-testing.options';
export { JobsTestHelper } from './jobs-test.helper';
export type { PerformEnqueuedOptions, PerformEnqueuedSummary } from './jobs-test.helper';
export type { CapturedJob, CapturedJobFilter, CapturedJobState, PartialDeep } from './captured-job';
export { jobsMatchers } from './jest-matchers';
