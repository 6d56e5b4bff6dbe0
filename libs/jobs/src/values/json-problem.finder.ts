import { formatJsonPath, JsonPathSegment, JsonProblem, jsonProblem } from './json-path.util';
import { checkStorableText } from './storable-text.check';

/*
 * The slow paths of strict mode, which name a problem precisely once a cheaper check has seen there is one.
 */

/**
 * Names the problem of a value the strict walk found too deep: the first cycle, or plain depth. Slow path
 * only (it keeps the chain of ancestors, and their keys to name the one referred back to).
 */
export function diagnoseDepth(value: unknown, maxDepth: number): JsonProblem {
  const ancestors: unknown[] = [];
  const keys: JsonPathSegment[] = [];
  const tooDeep = () => jsonProblem(`must not be nested deeper than ${maxDepth} levels.`);
  const walk = (v: unknown): JsonProblem | undefined => {
    if (typeof v !== 'object' || v === null) return undefined;
    const seenAt = ancestors.indexOf(v);
    if (seenAt !== -1) {
      return jsonProblem(
        `must not refer back to ${formatJsonPath(keys.slice(0, seenAt))}, which contains it (a cycle): ` +
          `JSON cannot hold it.`,
      );
    }
    if (ancestors.length >= maxDepth) return tooDeep();
    ancestors.push(v);
    try {
      const entries: JsonPathSegment[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
      for (const k of entries) {
        keys.push(k);
        const found = walk((v as Record<JsonPathSegment, unknown>)[k]);
        keys.pop();
        if (found) {
          found.reversed.push(k);
          return found;
        }
      }
      return undefined;
    } finally {
      ancestors.pop();
    }
  };
  try {
    return walk(value) ?? tooDeep();
  } catch {
    // A getter that throws only on a second read: the depth is still the first walk's finding.
    return tooDeep();
  }
}

/**
 * The first string or key that PostgreSQL's jsonb cannot store (U+0000, a lone surrogate), in a value
 * that came out of `JSON.parse` of the text that would be stored (so it sees exactly what `toJSON`s wrote).
 */
export function findTextProblem(value: unknown): JsonProblem | undefined {
  if (typeof value === 'string') {
    const problem = checkStorableText(value);
    return problem === undefined ? undefined : jsonProblem(problem);
  }
  if (typeof value !== 'object' || value === null) return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = findTextProblem(value[i]);
      if (found) {
        found.reversed.push(i);
        return found;
      }
    }
    return undefined;
  }
  for (const [k, v] of Object.entries(value)) {
    const keyProblem = checkStorableText(k);
    const found =
      keyProblem === undefined ? findTextProblem(v) : jsonProblem(`the key ${keyProblem}`);
    if (found) {
      found.reversed.push(k);
      return found;
    }
  }
  return undefined;
}
