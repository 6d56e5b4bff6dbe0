/** How much of a string a message quotes. */
const QUOTE_MAX = 40;

/**
 * A short, safe description of any value for an error message (`got NaN`, `got an object`, `got "ab…"`).
 * Never throws (a Proxy or a throwing getter is described, not read), and what it returns is always
 * storable text: strings are quoted with `JSON.stringify`, which escapes U+0000 and lone surrogates, so
 * a message that quotes a bad value can itself be written to `last_error`. Never echoes more than 40
 * characters of a string (it may be a secret or a 10 MB blob).
 */
export function describeValue(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length <= QUOTE_MAX
        ? JSON.stringify(value)
        : `${JSON.stringify(value.slice(0, QUOTE_MAX))}… (${value.length} characters)`;
    case 'number':
      return Object.is(value, -0) ? '-0' : String(value);
    case 'bigint':
      return `${value}n (a bigint)`;
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      return describeObject(value as object | null);
  }
}

function describeObject(value: object | null): string {
  if (value === null) return 'null';
  try {
    if (Array.isArray(value)) return `an array of ${value.length}`;
    const time = dateTime(value);
    if (time !== undefined) {
      return Number.isFinite(time) ? `the Date ${new Date(time).toISOString()}` : 'an invalid Date';
    }
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === null || proto === Object.prototype) return 'an object';
    const name: unknown = (proto as { constructor?: { name?: unknown } }).constructor?.name;
    return typeof name === 'string' && /^[\w$]{1,64}$/.test(name)
      ? `an instance of ${name}`
      : 'an object';
  } catch {
    // A revoked Proxy (or one whose traps throw) cannot even say what it is.
    return 'an unreadable object (reading it threw)';
  }
}

/**
 * The time of a Date, `NaN` for an invalid Date, `undefined` for anything else. Uses the internal slot
 * (`Date.prototype.getTime` throws on non-Dates), so it works across realms and cannot be fooled by
 * `Symbol.toStringTag`, unlike `instanceof` or `Object.prototype.toString`.
 */
export function dateTime(value: unknown): number | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  try {
    return Date.prototype.getTime.call(value);
  } catch {
    return undefined;
  }
}
