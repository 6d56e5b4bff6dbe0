import { formatJsonPath, JsonPathSegment } from './json-path.util';
import { isWellFormed, toStorableText } from './storable-text.check';
import { toStorableErrorText } from './error-text.normalizer';

/** One value `replace` mode changed so that it could be stored, and why. */
export interface JsonReplacement {
  /** Where, e.g. `$.rows[3].note` (see `formatJsonPath`). */
  path: string;
  /** What was there and what it became, e.g. `had U+0000 or a lone surrogate: replaced with U+FFFD`. */
  problem: string;
}

/** How many replacements are listed (all are counted): enough for a log line. */
export const REPLACEMENTS_LISTED = 10;

/** A copy of a value that `JSON.stringify` serializes without throwing into text jsonb accepts. */
export interface SanitizedJson {
  value: unknown;
  replaced: JsonReplacement[];
  replacedCount: number;
}

const DROPPED = Symbol('dropped');

/**
 * The slow path of `replace` mode, taken only when `JSON.stringify` threw or its text holds something
 * jsonb refuses. Copies the value the way JSON.stringify reads it (`toJSON` first, boxed primitives
 * unwrapped, own enumerable keys, `undefined`/functions/symbols dropped or `null` in arrays, non-finite
 * numbers `null`: its usual lossy rules, kept silently, as a result has always been stored), and replaces
 * what it cannot store, reporting each:
 *
 * - U+0000 and lone surrogates in strings and keys become U+FFFD (as in `toStorableText`);
 * - a bigint becomes its decimal string;
 * - a cycle becomes `"[circular]"`, nesting deeper than `maxDepth` becomes `"[nested too deep]"`;
 * - a getter, `toJSON` or Proxy trap that throws becomes `"[unreadable: <its message>]"`.
 *
 * Output objects have no prototype, so a `__proto__` key is copied as data.
 */
export function sanitizeForJson(value: unknown, maxDepth: number): SanitizedJson {
  const out: SanitizedJson = { value: undefined, replaced: [], replacedCount: 0 };
  const path: JsonPathSegment[] = [];
  const ancestors: object[] = [];

  const replace = (problem: string, replacement: unknown): unknown => {
    if (out.replacedCount++ < REPLACEMENTS_LISTED) {
      out.replaced.push({ path: formatJsonPath(path), problem });
    }
    return replacement;
  };
  const unreadable = (error: unknown): unknown => {
    const message = toStorableErrorText(error, { message: 200 }).message;
    return replace(
      `could not be read (${message}): replaced with a marker`,
      `[unreadable: ${message}]`,
    );
  };
  const text = (s: string): string => {
    if (s.indexOf('\0') === -1 && isWellFormed(s)) return s;
    replace('had U+0000 or a lone surrogate: replaced with U+FFFD', undefined);
    return toStorableText(s, Number.POSITIVE_INFINITY);
  };

  const copy = (input: unknown, key: string): unknown => {
    let v = input;
    try {
      if ((typeof v === 'object' && v !== null) || typeof v === 'bigint') {
        const toJSON = (v as { toJSON?: unknown }).toJSON;
        if (typeof toJSON === 'function') v = toJSON.call(v, key);
      }
      if (v instanceof Number) v = Number(v);
      else if (v instanceof String) v = String(v);
      else if (v instanceof Boolean) v = v.valueOf();
    } catch (error) {
      return unreadable(error);
    }
    switch (typeof v) {
      case 'string':
        return text(v);
      case 'number':
        return Number.isFinite(v) ? v : null;
      case 'boolean':
        return v;
      case 'bigint':
        return replace('was a bigint: stored as its decimal string', String(v));
      case 'object':
        return v === null ? null : copyObject(v);
      default:
        return DROPPED;
    }
  };

  const copyObject = (obj: object): unknown => {
    if (ancestors.includes(obj))
      return replace('was a cycle: replaced with a marker', '[circular]');
    if (ancestors.length >= maxDepth) {
      return replace(
        `was nested deeper than ${maxDepth} levels: replaced with a marker`,
        '[nested too deep]',
      );
    }
    ancestors.push(obj);
    try {
      if (Array.isArray(obj)) {
        const items: unknown[] = [];
        for (let i = 0; i < obj.length; i++) items.push(entry(obj, i, null));
        return items;
      }
      const fields = Object.create(null) as Record<string, unknown>;
      for (const k of Object.keys(obj)) {
        path.push(k);
        const safeKey = text(k);
        path.pop();
        const v = entry(obj, k, DROPPED);
        if (v !== DROPPED) fields[safeKey] = v;
      }
      return fields;
    } catch (error) {
      return unreadable(error);
    } finally {
      ancestors.pop();
    }
  };

  /** One entry, read (a getter may throw) and copied; `dropped` is what a dropped value becomes. */
  const entry = (container: object, k: string | number, dropped: unknown): unknown => {
    path.push(k);
    try {
      let v: unknown;
      try {
        v = (container as Record<string | number, unknown>)[k];
      } catch (error) {
        return unreadable(error);
      }
      const copied = copy(v, String(k));
      return copied === DROPPED ? dropped : copied;
    } finally {
      path.pop();
    }
  };

  const root = copy(value, '');
  out.value = root === DROPPED ? null : root;
  return out;
}
