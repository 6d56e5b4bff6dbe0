/** One step into a JSON value: an object key or an array index. */
export type JsonPathSegment = string | number;

const IDENTIFIER = /^[A-Za-z_$][\w$]*$/;
/** How much of an odd key a path quotes. */
const KEY_QUOTE_MAX = 40;

/**
 * A JSONPath-style name of a place in a value: `$` (the whole value), `$.items[3].sku`, `$["a b"]`.
 * Odd keys are quoted with `JSON.stringify` (cut to 40 characters), so a path naming a key that holds
 * U+0000 or a lone surrogate is itself storable text and can go into an error message that is stored.
 */
export function formatJsonPath(segments: readonly JsonPathSegment[]): string {
  let path = '$';
  for (const segment of segments) {
    if (typeof segment === 'number') path += `[${segment}]`;
    else if (IDENTIFIER.test(segment)) path += `.${segment}`;
    else if (segment.length <= KEY_QUOTE_MAX) path += `[${JSON.stringify(segment)}]`;
    else path += `[${JSON.stringify(segment.slice(0, KEY_QUOTE_MAX))}…]`;
  }
  return path;
}

/**
 * A problem found at a place in a value. `reversed` holds the path from the problem up to the root: each
 * level of a recursive walk pushes its own key as the problem travels back up, so a walk that finds
 * nothing allocates no path at all.
 */
export interface JsonProblem {
  problem: string;
  reversed: JsonPathSegment[];
}

/** A problem at the current place (its path is filled in on the way up). */
export function jsonProblem(problem: string): JsonProblem {
  return { problem, reversed: [] };
}

/** The problem's path, root first. */
export function pathOf(found: JsonProblem): string {
  return formatJsonPath([...found.reversed].reverse());
}
