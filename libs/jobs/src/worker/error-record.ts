import type { JobErrorRecord } from '../interfaces';

/** Characters of a stack kept in an error record. */
export const STACK_LIMIT = 4_000;

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
 * The record of a failed attempt: name, message and stack (cut to `STACK_LIMIT`). Each field is read
 * separately, and a field that cannot be read or is not a string is replaced by a description, so a
 * hostile error still leaves a record naming what happened. Never throws.
 */
export function toErrorRecord(error: Error, attempt: number, at: Date): JobErrorRecord {
  const record: JobErrorRecord = {
    attempt,
    at: at.toISOString(),
    name: read(() => errorName(error), 'Error'),
    message: read(() => error.message, '(the error message could not be read)'),
  };
  const stack = read(() => error.stack, undefined);
  if (stack !== undefined) record.stack = stack.slice(0, STACK_LIMIT);
  return record;
}

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
