import { pathOf, JsonProblem } from './json-path.util';
import { JsonReplacement, sanitizeForJson } from './json-replace.sanitizer';
import { isPlainJson } from './json-fast-path.check';
import { diagnoseDepth, findTextProblem } from './json-problem.finder';
import { findStrictProblem, TOO_DEEP } from './json-strict.check';
import { toStorableErrorText } from './error-text.normalizer';
import { JSON_MAX_DEPTH } from './value-limits.constants';

/** Options of `toStorableJson`. */
export interface StorableJsonOptions {
  /** `'strict'` for payloads (refuse), `'replace'` for results (always store, report changes). */
  mode: 'strict' | 'replace';
  /** Largest JSON text, in UTF-8 bytes. */
  maxBytes: number;
  /** Option that sets `maxBytes`, named in the problem (e.g. `maxPayloadBytes`). Default: none. */
  limitName?: string;
  /** Deepest nesting. Default `JSON_MAX_DEPTH` (100). */
  maxDepth?: number;
  /**
   * Strict mode: accept class instances other than Date (walked as JSON.stringify reads them), for jobs
   * whose payload class turns the stored fields back into instances. Default `false`.
   */
  allowClassInstances?: boolean;
  /** Strict mode: accept `undefined` object properties (left out of the JSON). Default `false`. */
  allowUndefinedProperties?: boolean;
}

/** Strict mode's outcome: the JSON text, or the first problem and where it is (`$.items[3].sku`). */
export type StrictJson =
  | { json: string; problem?: undefined; path?: undefined }
  | { json?: undefined; problem: string; path: string };

/** Replace mode's outcome: always JSON text jsonb accepts, and what had to change (first 10; all counted). */
export interface ReplacedJson {
  json: string;
  replaced: readonly JsonReplacement[];
  replacedCount: number;
}

const NOTHING_REPLACED: readonly JsonReplacement[] = Object.freeze([]);

/**
 * A value as JSON text that PostgreSQL's `jsonb` accepts, under a size limit.
 *
 * **`strict`** (payloads, at enqueue): the text is returned only if `JSON.parse` of it gives back the
 * value exactly (a Date becomes its ISO string; see `findStrictProblem` for every rule) and jsonb stores
 * it: no U+0000 or lone surrogate in any string or key (`unsupported Unicode escape sequence`, `invalid
 * input syntax for type json`, verified), at most `maxDepth` levels, at most `maxBytes`. Otherwise the first
 * problem and its path, never a throw. A top-level `undefined` (no payload) is `null`.
 *
 * **`replace`** (results, in the worker): never fails, so an attempt's outcome is always recorded.
 * JSON.stringify's usual rules apply (undefined dropped, NaN → null, …: what results always stored), and
 * what it cannot serialize or jsonb cannot store is replaced and reported (`sanitizeForJson`). A text over
 * `maxBytes` is replaced whole by a JSON string saying so. The caller logs a warning when `replacedCount > 0`.
 * We replace rather than fail the job: the handler's work is done, and failing would retry it.
 *
 * Speed: the common case is one `JSON.stringify` plus two native `indexOf` scans of its text (it escapes
 * U+0000 as `\u0000` and lone surrogates as `\ud800`–`\udfff`, so they are easy to spot), and in strict mode one
 * walk that allocates nothing (`isPlainJson`; the careful `findStrictProblem` runs only when it balks). The slow paths (parse the text back to find the exact place) run only on a hit.
 */
export function toStorableJson(
  value: unknown,
  options: StorableJsonOptions & { mode: 'strict' },
): StrictJson;
export function toStorableJson(
  value: unknown,
  options: StorableJsonOptions & { mode: 'replace' },
): ReplacedJson;
export function toStorableJson(
  value: unknown,
  options: StorableJsonOptions,
): StrictJson | ReplacedJson;
export function toStorableJson(
  value: unknown,
  options: StorableJsonOptions,
): StrictJson | ReplacedJson {
  const maxDepth = options.maxDepth ?? JSON_MAX_DEPTH;
  return options.mode === 'strict'
    ? strict(value, options, maxDepth)
    : replace(value, options, maxDepth);
}

function strict(input: unknown, o: StorableJsonOptions, maxDepth: number): StrictJson {
  const value = input === undefined ? null : input;
  if (!isPlainJson(value, maxDepth)) {
    // Something to look at closely (it may still pass: an allowed class instance, say).
    const allowClassInstances = o.allowClassInstances ?? false;
    const allowUndefinedProperties = o.allowUndefinedProperties ?? false;
    const found = findStrictProblem(value, {
      maxDepth,
      allowClassInstances,
      allowUndefinedProperties,
    });
    if (found) return failed(found.problem === TOO_DEEP ? diagnoseDepth(value, maxDepth) : found);
  }
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    // Only a getter or toJSON that throws on a second read (the walk read it once) gets here.
    return { problem: `could not be serialized: ${toStorableErrorText(error).message}`, path: '$' };
  }
  const bytes = bytesOver(json, o.maxBytes);
  if (bytes !== undefined) return { problem: sizeProblem(bytes, o), path: '$' };
  if (mayHoldUnstorableText(json)) {
    // The text is exactly what would be stored (toJSON results included): find the string or key in it.
    const text = findTextProblem(JSON.parse(json));
    if (text) return failed(text);
  }
  return { json };
}

function replace(value: unknown, o: StorableJsonOptions, maxDepth: number): ReplacedJson {
  let json: string | undefined;
  try {
    json = JSON.stringify(value) ?? 'null';
  } catch {
    json = undefined; // a cycle, a bigint, a throwing getter or toJSON, too deep for the stack
  }
  let replaced = NOTHING_REPLACED;
  let replacedCount = 0;
  if (json === undefined || mayHoldUnstorableText(json)) {
    // Copy what JSON.stringify produced when it could (exactly its toJSON results), else the value.
    const clean = sanitizeForJson(json === undefined ? value : JSON.parse(json), maxDepth);
    json = JSON.stringify(clean.value) ?? 'null';
    ({ replaced, replacedCount } = clean);
  }
  const bytes = bytesOver(json, o.maxBytes);
  if (bytes === undefined) return { json, replaced, replacedCount };
  const problem = sizeProblem(bytes, o);
  const marker = JSON.stringify(`[not stored: it ${problem}]`);
  return {
    // A limit too small for even the marker leaves JSON null.
    json: bytesOver(marker, o.maxBytes) === undefined ? marker : 'null',
    // Nothing of the value is stored, so replacements inside it no longer matter.
    replaced: [{ path: '$', problem: `${problem}: replaced with a marker` }],
    replacedCount: 1,
  };
}

function failed(found: JsonProblem): StrictJson {
  return { problem: found.problem, path: pathOf(found) };
}

function sizeProblem(bytes: number, o: StorableJsonOptions): string {
  const option = o.limitName ? ` (${o.limitName})` : '';
  return `is ${bytes} bytes of JSON, over the ${o.maxBytes}-byte limit${option}; store large data elsewhere and pass its id`;
}

/** The UTF-8 size of a JSON text when it is over `maxBytes`, else `undefined` (mostly without encoding it). */
function bytesOver(json: string, maxBytes: number): number | undefined {
  // A UTF-16 code unit is 1 to 3 bytes of UTF-8, so the length alone often decides.
  if (json.length * 3 <= maxBytes) return undefined;
  const bytes = Buffer.byteLength(json, 'utf8');
  return bytes > maxBytes ? bytes : undefined;
}

/**
 * Whether JSON.stringify's text may hold U+0000 or a lone surrogate: it writes them as `\u0000` and
 * `\ud800`–`\udfff` (lower-case hex, per the spec) and every other character as itself, so two native
 * scans settle it. A hit can be a false alarm (a string holding a backslash then `u0000`, written `\\u0000`):
 * the slow path decides.
 */
export function mayHoldUnstorableText(json: string): boolean {
  if (json.indexOf('\\u0000') !== -1) return true;
  for (let i = json.indexOf('\\ud'); i !== -1; i = json.indexOf('\\ud', i + 3)) {
    const c = json.charCodeAt(i + 3);
    if ((c >= 0x38 && c <= 0x39) || (c >= 0x61 && c <= 0x66)) return true; // 8-9, a-f
  }
  return false;
}
