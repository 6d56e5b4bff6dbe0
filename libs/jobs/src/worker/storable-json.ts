/**
 * JSON text PostgreSQL's `jsonb` accepts. `JSON.stringify` writes U+0000 and lone UTF-16 surrogates as
 * `\u0000` / `\udXXX` escapes, which `jsonb` refuses (it cannot hold NUL in text, nor half a character);
 * a single such value in a completion batch used to fail the whole batch again and again. Each of them is
 * replaced by U+FFFD (the Unicode replacement character), in keys and values alike; everything else is
 * kept exactly. Valid surrogate pairs are written by `JSON.stringify` as the characters themselves, so
 * any surrogate escape in its output is a lone one.
 *
 * Private to the worker until the shared value helpers (`values/`) provide one.
 */
const UNSTORABLE_ESCAPE = /(?<!\\)((?:\\\\)*)\\u(?:0000|[dD][89a-fA-F][0-9a-fA-F]{2})/g;

/** `json` with every escape `jsonb` refuses replaced by U+FFFD; `json` itself when it has none (the usual case, one scan). */
export function toStorableJson(json: string): string {
  if (!json.includes('\\u')) return json;
  return json.replace(UNSTORABLE_ESCAPE, '$1\uFFFD');
}

/** Whether `toStorableJson` would change `json`. */
export function isStorableJson(json: string): boolean {
  return toStorableJson(json) === json;
}
