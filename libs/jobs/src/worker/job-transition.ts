import type { JobErrorRecord } from '../interfaces';

/**
 * What the worker must record after an attempt, decided by the runner: backoff already applied, attempts
 * left already counted, the error record already built, the result already storable JSON text.
 * - `complete`: the job is done; `result` is JSON text, or `null` when it returned nothing storable.
 * - `retry`: the attempt failed and attempts are left; run it again after `delayMs`.
 * - `fail`: the job ends `failed` (no attempts left, or an error no retry can fix).
 * - `snooze`: end the attempt without counting it; run again after `delayMs`.
 * - `cancel`: the job was cancelled while it ran; the row already says so and nothing is written.
 */
export type JobTransition =
  | { kind: 'complete'; result: string | null }
  | { kind: 'retry'; error: JobErrorRecord; delayMs: number }
  | { kind: 'fail'; error: JobErrorRecord }
  | { kind: 'snooze'; delayMs: number }
  | { kind: 'cancel' };

/**
 * Largest delay of a retry or a snooze: 100 years, far inside what PostgreSQL's timestamps and the
 * statements' bigint parameters hold (a larger one would make the write itself fail).
 */
export const MAX_DELAY_MS = 100 * 365 * 86_400_000;
