/**
 * The fast path of strict mode: `true` when a value is plain JSON data that `JSON.stringify` writes
 * exactly (finite numbers, strings, booleans, null, arrays without holes, objects whose prototype is
 * `Object.prototype` or null, valid Dates), at most `maxDepth` deep. Strings are not looked at (the
 * caller scans the JSON text for them).
 *
 * `false` is not a verdict, only "look closer": the careful walk (`findStrictProblem`) decides, and names
 * the path. That is what lets this one be fast: no problem objects, no paths, no per-key `try`, `for…in`
 * instead of `Object.keys` (no array per object; an enumerable key inherited from a polluted
 * `Object.prototype` can only send a value to the careful walk, which reads own keys as JSON.stringify
 * does). A getter or Proxy trap that throws also just means "look closer". Allocates nothing.
 */
export function isPlainJson(value: unknown, maxDepth: number): boolean {
  try {
    return plain(value, 0, maxDepth);
  } catch {
    return false;
  }
}

function plain(value: unknown, depth: number, maxDepth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= maxDepth) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          if (!plain(value[i], depth + 1, maxDepth)) return false;
        }
        return true;
      }
      const proto: unknown = Object.getPrototypeOf(value);
      if (proto === Date.prototype) return Number.isFinite((value as Date).getTime());
      if (proto !== Object.prototype && proto !== null) return false;
      for (const key in value) {
        if (!plain((value as Record<string, unknown>)[key], depth + 1, maxDepth)) return false;
      }
      return true;
    }
    default:
      return false;
  }
}
