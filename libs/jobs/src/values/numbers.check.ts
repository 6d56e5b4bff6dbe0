import { DELAY_MAX_MS, INT4_MAX, INT4_MIN, TIMER_MAX_MS } from './value-limits.constants';
import { describeValue } from './value-description.util';

/*
 * Number checks. Each returns `undefined` for a good value, else a problem that reads after the field's
 * name (`must be …, got NaN.`) and fits the typed errors that name the field: `InvalidEnqueueOptionsError`,
 * `InvalidJobsOptionsError`, `JobDefinitionError`, `InvalidArgumentError`. They take `unknown` because
 * JavaScript callers and config files pass strings, NaN and worse; none of them throws.
 */

/** Bounds of an integer check; both inclusive. */
export interface IntRange {
  min?: number;
  max?: number;
}

/**
 * An integer PostgreSQL's `integer` column takes exactly (`priority`, `maxAttempts`, a page `limit`):
 * −2^31..2^31 − 1, narrowed by `range`. A fraction is refused rather than rounded (PostgreSQL refuses
 * `1.5` for an integer parameter: `invalid input syntax for type integer`). `-0` is accepted (it is 0).
 * The problem says what is wrong in the words the option checks have always used (`must be a positive
 * integer, got 0.`), plus the upper bound when that is what was crossed.
 */
export function checkInt4(value: unknown, range: IntRange = {}): string | undefined {
  const min = Math.max(range.min ?? INT4_MIN, INT4_MIN);
  const max = Math.min(range.max ?? INT4_MAX, INT4_MAX);
  const why = max === INT4_MAX ? ' (the largest PostgreSQL integer)' : '';
  return checkInteger(value, min, max, why);
}

/** `checkInt4` from 1 (`maxAttempts`, `concurrency`). */
export function checkPositiveInt4(value: unknown): string | undefined {
  return checkInt4(value, { min: 1 });
}

/**
 * A duration that SQL adds to or takes from `now()` (`delayMs`, `ctx.snooze(ms)`, a backoff function's
 * result, `purge({ olderThanMs })`, retention ages): a number of milliseconds from 0 to `DELAY_MAX_MS`
 * (100 years), so `now() ± delay * interval '1 millisecond'` neither overflows the interval (`interval out
 * of range` for 1e16, NaN or 1e300, verified) nor leaves the `runAt` range. Fractions are accepted (the
 * interval keeps microseconds; callers may round).
 */
export function checkDelayMs(value: unknown): string | undefined {
  if (typeof value !== 'number' || !(value >= 0)) {
    return `must be a non-negative number of milliseconds, got ${describeValue(value)}.`;
  }
  if (value > DELAY_MAX_MS) {
    return `must be at most ${DELAY_MAX_MS} ms (100 years), got ${describeValue(value)}.`;
  }
  return undefined;
}

/** Options of `checkTimerMs`. */
export interface TimerRange {
  /** Smallest value. Default `1` (`0` where "no wait" is meaningful, e.g. `shutdownTimeoutMs`). */
  min?: number;
}

/**
 * A delay that becomes a Node timer (`timeoutMs`, `pollIntervalMs`, `leaseMs`, `heartbeatIntervalMs`,
 * `rescueIntervalMs`, `shutdownTimeoutMs`, `retention.intervalMs`): an integer from `min` to 2^31 − 1 ms
 * (about 24.8 days). Above that Node fires the timer after 1 ms with a `TimeoutOverflowWarning`
 * (verified), so a 30-day `timeoutMs` timed every attempt out at once and a 30-day retention interval ran
 * thousands of sweeps a second. Check at startup, for module options and every `@Job`.
 */
export function checkTimerMs(value: unknown, range: TimerRange = {}): string | undefined {
  const why = ' ms (about 24.8 days: Node fires longer timers at once)';
  return checkInteger(value, range.min ?? 1, TIMER_MAX_MS, why);
}

function checkInteger(value: unknown, min: number, max: number, why: string): string | undefined {
  if (typeof value === 'number' && Number.isInteger(value) && value >= min && value <= max) {
    return undefined;
  }
  const got = describeValue(value);
  if (typeof value === 'number' && Number.isInteger(value) && value > max) {
    return `must be at most ${max}${why}, got ${got}.`;
  }
  if (min === 1) return `must be a positive integer, got ${got}.`;
  if (min === 0) return `must be a non-negative integer, got ${got}.`;
  if (typeof value === 'number' && Number.isInteger(value)) {
    return `must be at least ${min}, got ${got}.`;
  }
  return `must be an integer, got ${got}.`;
}
