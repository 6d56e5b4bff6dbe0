import type { JobDefinition } from '../discovery/job-definition';
import { SnoozeSignal } from '../errors/snooze.signal';
import {
  AccountUnavailableError,
  DiscardJobError,
  InvalidPayloadError,
  InvalidSnoozeError,
  UnknownJobError,
} from '../errors';
import { backoffDelay } from './backoff';
import { MAX_DELAY_MS } from './job-transition';

/**
 * The rules that turn how an attempt ended into what happens next, apart from the runner so they are
 * pure. Each is written so that a hostile thrown value (a Proxy, a class whose `Symbol.hasInstance` or a
 * backoff function throws) cannot make it throw.
 */

/** Errors no retry can fix: the job fails at once whatever its attempts. */
const NEVER_RETRIED = [
  AccountUnavailableError,
  InvalidPayloadError,
  UnknownJobError,
  DiscardJobError,
];

/**
 * For a snooze: its delay in whole ms (a negative one is 0), or `InvalidSnoozeError` when the delay is
 * not a finite number up to `MAX_DELAY_MS`. `undefined` when `thrown` is not a snooze.
 */
export function snoozeOf(definition: JobDefinition, thrown: unknown): number | Error | undefined {
  let delay: unknown;
  try {
    if (!(thrown instanceof SnoozeSignal)) return undefined;
    delay = thrown.delayMs;
  } catch {
    return undefined;
  }
  if (typeof delay !== 'number' || !Number.isFinite(delay) || delay > MAX_DELAY_MS)
    return new InvalidSnoozeError(definition.name, delay);
  return Math.max(0, Math.round(delay));
}

/** Whether a retry can help: not a never-retried error, not in `discardOn`, and in `retryOn` if it is set. */
export function isRetryable(definition: JobDefinition, error: Error): boolean {
  if (isAny(error, NEVER_RETRIED) || isAny(error, definition.discardOn)) return false;
  return !definition.retryOn || isAny(error, definition.retryOn);
}

/** The job's backoff for this attempt, within [0, MAX_DELAY_MS]; `backoff.maxMs` if its function throws. */
export function retryDelay(definition: JobDefinition, attempt: number, error: Error): number {
  let delay: number;
  try {
    delay = backoffDelay(definition.backoff, attempt, error);
  } catch {
    delay = definition.backoff.maxMs;
  }
  return Number.isFinite(delay)
    ? Math.min(MAX_DELAY_MS, Math.max(0, Math.round(delay)))
    : MAX_DELAY_MS;
}

/** `error instanceof` one of `types`; a class whose `Symbol.hasInstance` throws does not match. */
function isAny(
  error: Error,
  types: ReadonlyArray<abstract new (...args: never[]) => Error>,
): boolean {
  for (const type of types) {
    try {
      if (error instanceof type) return true;
    } catch {
      // not a match
    }
  }
  return false;
}
