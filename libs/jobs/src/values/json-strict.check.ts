import { JsonProblem, jsonProblem } from './json-path.util';
import { toStorableErrorText } from './error-text.normalizer';
import { dateTime, describeValue } from './value-description.util';

/** What the strict walk needs to know. */
export interface StrictWalkOptions {
  maxDepth: number;
  allowClassInstances: boolean;
  /**
   * Accept `undefined` as an object property's value (`{ note: dto.note }` with no note): JSON leaves the
   * key out, and the handler reading `payload.note` gets `undefined` back all the same. Still refused in
   * arrays (JSON writes `null` there). Default `false`.
   */
  allowUndefinedProperties?: boolean;
}

/**
 * The first value that `JSON.stringify` would silently change, drop or choke on, or `undefined`. What
 * `JSON.parse` gives back must be what the caller passed (a Date excepted: it becomes its ISO string):
 *
 * - numbers must be finite (NaN and ±Infinity become `null`);
 * - `undefined`, functions and symbols are dropped from objects and become `null` in arrays;
 * - a bigint makes JSON.stringify throw;
 * - objects must be plain (`{}`, `Object.create(null)`) or arrays; a Date is stored as its ISO string
 *   (and an invalid Date, which would be `null`, is refused). Map, Set, typed arrays, RegExp, Errors and
 *   boxed primitives lose their contents (`{}`) and are always refused; other class instances too unless
 *   `allowClassInstances` (for jobs with a payload class, whose class-transformer step turns the stored
 *   own fields back into instances), in which case they are walked as JSON.stringify would (their
 *   `toJSON`, else their own enumerable fields);
 * - a getter, Proxy trap or `toJSON` that throws is a problem at its path, never a raw throw;
 * - nesting deeper than `maxDepth`: `TOO_DEEP` (a cycle is found this way too, without a set of seen
 *   objects; `diagnoseDepth` then tells a cycle from depth and names it);
 * - `-0` is accepted, though it comes back as `0` (the same number to any handler).
 *
 * Strings and keys are not looked at: the caller scans the JSON text for them (cheaper, see
 * `toStorableJson`). Symbol-keyed and non-enumerable properties are ignored, as JSON.stringify does.
 * The careful walk: `isPlainJson` is the fast one that decides whether this one must run.
 */
export function findStrictProblem(
  value: unknown,
  options: StrictWalkOptions,
): JsonProblem | undefined {
  return check(value, 0, options, '');
}

/** The problem of a walk that went deeper than `maxDepth` (too deep, or a cycle): see `diagnoseDepth`. */
export const TOO_DEEP = 'nested too deep';

function check(
  value: unknown,
  depth: number,
  o: StrictWalkOptions,
  key: string,
  afterToJSON = false,
): JsonProblem | undefined {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value)
        ? undefined
        : jsonProblem(
            `must be a finite number, got ${describeValue(value)} (JSON would store null).`,
          );
    case 'object':
      return value === null ? undefined : checkObject(value, depth, o, key, afterToJSON);
    case 'bigint':
      return jsonProblem(
        `must not be a bigint (${describeValue(value)}): JSON has none; pass it as a string.`,
      );
    default:
      return jsonProblem(
        `must not be ${describeValue(value)}: JSON.stringify drops it (or stores null in an array), so ` +
          `the job would not get it back. Leave the key out, or use null.`,
      );
  }
}

function checkObject(
  obj: object,
  depth: number,
  o: StrictWalkOptions,
  key: string,
  afterToJSON: boolean,
): JsonProblem | undefined {
  if (depth >= o.maxDepth) return jsonProblem(TOO_DEEP);
  try {
    if (Array.isArray(obj)) {
      for (let i = 0; i < obj.length; i++) {
        const found = readAndCheck(obj, i, depth, o);
        if (found) return found;
      }
      return undefined;
    }
    const proto: unknown = Object.getPrototypeOf(obj);
    if (proto !== Object.prototype && proto !== null) {
      const time = dateTime(obj);
      if (time !== undefined) {
        return Number.isFinite(time)
          ? undefined
          : jsonProblem('must be a valid Date, got an invalid Date (JSON would store null).');
      }
      if (!o.allowClassInstances || isOpaque(obj)) {
        return jsonProblem(
          `must be a plain object or array, got ${describeValue(obj)}: JSON keeps only its own fields ` +
            `({} for a Map, Set or typed array), so the job would not get it back. Convert it ` +
            `(e.g. Object.fromEntries(map), [...set], Array.from(bytes)).`,
        );
      }
      // JSON.stringify calls a toJSON once and serializes what it returns as it is.
      const toJSON = (obj as { toJSON?: unknown }).toJSON;
      if (!afterToJSON && typeof toJSON === 'function') {
        return check(toJSON.call(obj, key), depth, o, key, true);
      }
    }
    for (const k of Object.keys(obj)) {
      const found = readAndCheck(obj, k, depth, o);
      if (found) return found;
    }
    return undefined;
  } catch (error) {
    // Object.keys, getPrototypeOf or toJSON threw: a Proxy's trap, or the object's own code.
    return jsonProblem(`could not be read: ${toStorableErrorText(error).message}`);
  }
}

/** Reads one entry (a getter may throw: that is a problem at the entry's path) and checks it. */
function readAndCheck(
  container: object,
  key: string | number,
  depth: number,
  o: StrictWalkOptions,
): JsonProblem | undefined {
  let value: unknown;
  try {
    value = (container as Record<string | number, unknown>)[key];
  } catch (error) {
    const found = jsonProblem(
      `could not be read: its getter threw ${toStorableErrorText(error).message}`,
    );
    found.reversed.push(key);
    return found;
  }
  if (value === undefined && typeof key === 'string' && o.allowUndefinedProperties)
    return undefined;
  const found = check(value, depth + 1, o, typeof key === 'number' ? String(key) : key);
  if (found) found.reversed.push(key);
  return found;
}

/** Built-ins whose contents JSON.stringify cannot see (it writes `{}` or a bare primitive). */
function isOpaque(obj: object): boolean {
  return (
    obj instanceof Map ||
    obj instanceof Set ||
    obj instanceof WeakMap ||
    obj instanceof WeakSet ||
    obj instanceof ArrayBuffer ||
    ArrayBuffer.isView(obj) ||
    obj instanceof RegExp ||
    obj instanceof Error ||
    obj instanceof Promise ||
    obj instanceof Number ||
    obj instanceof String ||
    obj instanceof Boolean
  );
}
