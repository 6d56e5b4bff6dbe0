import type { ValidatorOptions } from 'class-validator';
import type { FlowOptions, JobDefaults, TenantOptions } from '../interfaces';

/**
 * How the testing queue treats an enqueue:
 * - `capture`: records the job; nothing runs until the test calls `JobsTestHelper.performEnqueued()`.
 * - `inline`: records the job and performs it at once, in the enqueuer's account, before `performLater`
 *   returns; the job's error is thrown to the caller (like Rails' inline adapter).
 */
export type JobsTestingMode = 'capture' | 'inline';

/** Options of `JobsTestingModule.forRoot()`: the subset of `JobsModuleOptions` that matters without a database. */
export interface JobsTestingOptions {
  /** Default `'capture'`. */
  mode?: JobsTestingMode;
  /** Tenant capture and re-entry, as in `JobsModule`; use the app's `clsKey`. Default: none (all jobs global). */
  tenant?: TenantOptions;
  /** Defaults for `@Job` options, as in `JobsModule`. */
  defaults?: JobDefaults;
  /** class-validator options used for payloads. Default `{ forbidUnknownValues: true }`. */
  validatorOptions?: ValidatorOptions;
  /** Largest accepted payload, in bytes of JSON. Default `262_144`. */
  maxPayloadBytes?: number;
  /**
   * Concurrency and rate limits, as in `JobsModule`: checked at startup, and their keys computed and
   * checked at every enqueue like in production. Nothing is limited in memory (jobs run when the test
   * says). Default: none.
   */
  flow?: FlowOptions;
}

/** Injection token of the testing module's `JobsTestingMode`. */
export const JOBS_TESTING_MODE = Symbol('JOBS_TESTING_MODE');
