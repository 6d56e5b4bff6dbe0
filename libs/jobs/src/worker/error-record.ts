import type { JobErrorRecord, LimitsOptions } from '../interfaces';
import {
  ErrorTextLimits,
  mayHoldUnstorableText,
  toStorableErrorText,
  toStorableJson,
} from '../values';

/**
 * Anything a handler throws, as an Error that is safe to read: an Error is kept as it is (so `retryOn`,
 * `discardOn` and backoff functions see the real class) unless reading it throws; anything else, or an
 * Error whose `instanceof` check or `message` getter throws (a hostile Proxy, a broken getter), becomes a
 * plain Error that describes it. Never throws.
 */
export function toSafeError(thrown: unknown): Error {
  let isError: boolean;
  try {
    isError = thrown instanceof Error;
  } catch {
    return new Error('A thrown value could not be inspected (its properties throw when read).');
  }
  if (isError) {
    const error = thrown as Error;
    try {
      void error.message; // a throwing getter makes it unsafe to pass on
      return error;
    } catch {
      const name = read(() => errorName(error), 'Error');
      const unreadable = new Error(
        `A ${name} was thrown, but its message could not be read (reading it throws).`,
      );
      unreadable.name = name;
      return unreadable;
    }
  }
  if (typeof thrown === 'string') return new Error(thrown);
  return new Error(`Non-error thrown: ${describe(thrown)}`);
}

/**
 * The record of a failed attempt: name, message and stack as `values/` makes them storable
 * (`toStorableErrorText`: each field read on its own, so a hostile error still leaves a record naming what
 * happened; U+0000 and lone surrogates replaced by U+FFFD; each text cut to its cap, ending with
 * `… [truncated N bytes]`). `limits` are the module's `limits` (default: `values/`'s caps). Never throws.
 */
export function toErrorRecord(
  error: unknown,
  attempt: number,
  at: Date,
  limits: ErrorRecordLimits = {},
): JobErrorRecord {
  const caps: ErrorTextLimits = {};
  // Only the caps given: an `undefined` one would override values/'s default.
  if (limits.maxErrorMessageBytes !== undefined) caps.message = limits.maxErrorMessageBytes;
  if (limits.maxErrorStackBytes !== undefined) caps.stack = limits.maxErrorStackBytes;
  const text = toStorableErrorText(error, caps);
  const record: JobErrorRecord = {
    attempt,
    at: at.toISOString(),
    name: text.name,
    message: text.message,
  };
  if (text.stack !== undefined) record.stack = text.stack;
  return record;
}

/**
 * An error record as the JSON text the worker stores. Records from `toErrorRecord` are storable already
 * (one `JSON.stringify` and two scans); any other goes through `values/`'s replace mode, so no record can
 * make its write fail.
 */
export function toErrorJson(record: JobErrorRecord): string {
  const json = JSON.stringify(record);
  return mayHoldUnstorableText(json)
    ? toStorableJson(record, { mode: 'replace', maxBytes: Number.MAX_SAFE_INTEGER }).json
    : json;
}

/** The caps `toErrorRecord` applies (the module's `limits`); unset ones are `values/`'s defaults. */
export type ErrorRecordLimits = Partial<
  Pick<Required<LimitsOptions>, 'maxErrorMessageBytes' | 'maxErrorStackBytes'>
>;

/** `error.name`, or the class name of an Error subclass that did not set `name` (most user errors). */
function errorName(error: Error): string {
  const name = error.name;
  if (name !== 'Error') return name;
  const className = (error.constructor as { name?: unknown } | undefined)?.name;
  return typeof className === 'string' && className && className !== 'Object' ? className : name;
}

function read<F extends string | undefined>(get: () => unknown, fallback: F): string | F {
  try {
    const value = get();
    if (value === undefined || value === null) return fallback;
    return typeof value === 'string' ? value : describe(value);
  } catch {
    return fallback;
  }
}

/** A short text for any value, whatever its `toString` or `toJSON` does. */
function describe(value: unknown): string {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // fall through: a cycle, a BigInt, a throwing toJSON
  }
  try {
    return String(value);
  } catch {
    return `a value of type ${typeof value}`;
  }
}
