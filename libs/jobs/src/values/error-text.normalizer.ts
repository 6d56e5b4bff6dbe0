import { ERROR_TEXT_MAX_BYTES } from './value-limits.constants';
import { toStorableText } from './storable-text.check';
import { describeValue } from './value-description.util';

/** The texts recorded for a failed attempt, each storable and within its cap. */
export interface StorableErrorText {
  name: string;
  message: string;
  /** Absent when the error has no readable string stack. */
  stack?: string;
}

/** Caps in UTF-8 bytes; default `ERROR_TEXT_MAX_BYTES` (256 / 8,192 / 16,384). */
export interface ErrorTextLimits {
  name?: number;
  message?: number;
  stack?: number;
}

/**
 * The name, message and stack of anything thrown, made storable; never throws. A failed attempt must
 * always be recorded with its real error, and each of these can defeat a naive `error.message`:
 * a getter that throws, a Proxy (revoked, or with throwing traps), a non-Error (`throw 42`, `throw null`),
 * a message with U+0000 or a lone surrogate (the SyntaxError of `JSON.parse('"\u0000')` quotes its input),
 * a 10 MB message. Every text goes through `toStorableText` (U+FFFD replacement, truncation with a marker).
 *
 * The name is `error.name`, or the class name for an Error subclass that left `name` as `'Error'` (most user
 * errors), as the worker has always recorded it.
 */
export function toStorableErrorText(
  thrown: unknown,
  limits: ErrorTextLimits = {},
): StorableErrorText {
  const caps = { ...ERROR_TEXT_MAX_BYTES, ...limits };
  const read = readError(thrown);
  const out: StorableErrorText = {
    name: toStorableText(read.name, caps.name),
    message: toStorableText(read.message, caps.message),
  };
  if (read.stack !== undefined) out.stack = toStorableText(read.stack, caps.stack);
  return out;
}

function readError(thrown: unknown): { name: string; message: string; stack?: string } {
  let isError = false;
  try {
    isError = thrown instanceof Error;
  } catch {
    // A Proxy whose getPrototypeOf trap throws: read through its properties only, below.
  }
  // Anything else thrown is recorded the way `toError` wraps it: a plain Error quoting the value.
  if (!isError) return { name: 'Error', message: nonErrorMessage(thrown) };
  const error = thrown as Error;
  const message = readString(error, 'message');
  return {
    name: errorName(error, readString(error, 'name')),
    message:
      message ?? (message === null ? '(its message could not be read: the getter threw)' : ''),
    stack: readString(error, 'stack') ?? undefined,
  };
}

function nonErrorMessage(thrown: unknown): string {
  if (typeof thrown === 'string') return thrown;
  try {
    const json = JSON.stringify(thrown);
    if (typeof json === 'string') return `Non-error thrown: ${json}`;
  } catch {
    // A cycle, a bigint, a throwing getter or toJSON, a Proxy: described instead.
  }
  return `Non-error thrown: ${describeValue(thrown)}`;
}

/** A string property: the string, `undefined` when it is not a string, `null` when reading it threw. */
function readString(value: object, key: 'name' | 'message' | 'stack'): string | undefined | null {
  try {
    const v: unknown = (value as Record<string, unknown>)[key];
    return typeof v === 'string' ? v : undefined;
  } catch {
    return null;
  }
}

function errorName(error: Error, name: string | undefined | null): string {
  if (typeof name === 'string' && name !== 'Error') return name;
  try {
    const className: unknown = (error.constructor as { name?: unknown } | undefined)?.name;
    return typeof className === 'string' && className !== '' && className !== 'Object'
      ? className
      : 'Error';
  } catch {
    return 'Error';
  }
}
