import type { JobState } from '../interfaces';
import type { JobClass } from '../interfaces/enqueue-options.interface';

/** The stored state of a captured job (`scheduled` is only reported, by `find` and `countByState`). */
export type CapturedJobState = Exclude<JobState, 'scheduled'>;

/**
 * A job the testing queue recorded instead of writing it to PostgreSQL. Options the enqueue left unset
 * (`runAt`, `delayMs`, `uniqueKey`) are `undefined`, as in `EnqueueOptions`.
 */
export interface CapturedJob<P = unknown> {
  /** Increasing numeric strings (`'1'`, `'2'`, …) in enqueue order, like the real queue's ids. */
  readonly id: string;
  /** The `@Job` class it was enqueued with. */
  readonly job: JobClass<P>;
  /** The job's registered name. */
  readonly name: string;
  /**
   * The payload as the worker would read it back: its JSON form (so a `Date` is an ISO string here, and
   * `undefined` fields are gone), not the object passed to `performLater`.
   */
  readonly payload: P;
  /** The captured account; `null` for a global job, or when tenancy is off. */
  readonly accountId: string | null;
  readonly queue: string;
  readonly priority: number;
  readonly maxAttempts: number;
  /** The `runAt` option, if given. */
  readonly runAt: Date | undefined;
  /** The `delayMs` option (rounded, at least 0), if given. */
  readonly delayMs: number | undefined;
  /** The `uniqueKey` option, if given. */
  readonly uniqueKey: string | undefined;
  readonly enqueuedAt: Date;
  /**
   * When the real queue would make it runnable: `runAt`, else `enqueuedAt + delayMs`, else `enqueuedAt`
   * (the app's clock). What the `runAt` filter compares.
   */
  readonly scheduledAt: Date;
  readonly state: CapturedJobState;
  /** Attempts performed so far (0 until performed; a snooze does not count). */
  readonly attempts: number;
  /** What `perform` returned, once completed. */
  readonly result: unknown;
  /** What `perform` threw, once failed. */
  readonly error: Error | undefined;
}

/** Recursively optional: the shape of a partial payload to match. */
export type PartialDeep<T> = T extends object ? { [K in keyof T]?: PartialDeep<T[K]> } : T;

/**
 * Selects captured jobs; every given criterion must hold. Values may be jest asymmetric matchers
 * (`expect.any(String)`), which are called through their `asymmetricMatch` method.
 */
export interface CapturedJobFilter<P = unknown> {
  /** Jobs of this class. */
  job?: JobClass<P>;
  /**
   * A partial deep match against the stored payload: objects may have more keys than given, arrays must
   * have the same length, a `Date` matches the same instant or its ISO string (the payload's JSON form).
   */
  payload?: PartialDeep<P>;
  /** Jobs captured for this account; `null` selects global jobs. */
  accountId?: string | null;
  queue?: string;
  /** `scheduledAt` equals this instant, or lies within these inclusive bounds. */
  runAt?: Date | { after?: Date; before?: Date };
  state?: CapturedJobState;
}
