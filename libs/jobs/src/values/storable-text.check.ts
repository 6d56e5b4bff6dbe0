import { describeValue } from './value-description.util';

/** Bounds of a text value; both optional. */
export interface TextLimits {
  /** At most this many UTF-16 code units (JS `length`). */
  maxLength?: number;
  /** At most this many bytes once encoded as UTF-8 (what PostgreSQL stores). */
  maxBytes?: number;
}

/** What replaces U+0000 and lone surrogates in `toStorableText` (and in JSON `replace` mode). */
export const REPLACEMENT_CHARACTER = '\uFFFD';

// ES2024's String#isWellFormed (V8, Node >= 20) is native and much faster than a regular expression;
// the regex is the fallback for older runtimes. The tsconfig's lib is ES2023, hence the cast.
const nativeIsWellFormed = (String.prototype as { isWellFormed?: () => boolean }).isWellFormed;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const LONE_SURROGATES = new RegExp(LONE_SURROGATE.source, 'g');

/** True when `value` has no lone UTF-16 surrogate, i.e. it is valid Unicode and encodes to UTF-8 exactly. */
export function isWellFormed(value: string): boolean {
  return nativeIsWellFormed ? nativeIsWellFormed.call(value) : !LONE_SURROGATE.test(value);
}

/**
 * Why a string cannot go to a PostgreSQL `text` or `jsonb` value exactly, or `undefined` when it can.
 * The problem reads after the field's name (`must not contain U+0000 …`) and says how to fix it.
 *
 * - U+0000 (NUL): `text` refuses it (`invalid byte sequence for encoding "UTF8": 0x00`) and `jsonb`
 *   refuses its escape (`unsupported Unicode escape sequence: \u0000 cannot be converted to text`).
 * - A lone UTF-16 surrogate (half of an emoji, e.g. a string cut with `slice`): in `jsonb` it is
 *   `invalid input syntax for type json` (`Unicode low surrogate must follow a high surrogate`), and in a
 *   `text` parameter node-postgres silently encodes it as U+FFFD: stored, but not what was sent.
 * - Longer than `maxLength` / `maxBytes`, when given (see `value-limits.constants.ts` for the limits).
 */
export function checkStorableText(value: unknown, limits: TextLimits = {}): string | undefined {
  if (typeof value !== 'string') return `must be a string, got ${describeValue(value)}.`;
  const nul = value.indexOf('\0');
  if (nul !== -1) {
    return (
      `must not contain U+0000 (NUL, at index ${nul}): PostgreSQL cannot store it in text or jsonb. ` +
      `Remove it, or encode binary data (base64).`
    );
  }
  if (!isWellFormed(value)) {
    return (
      `must not contain a lone UTF-16 surrogate (at index ${loneSurrogateIndex(value)}): it is not valid ` +
      `Unicode (often half of an emoji cut by slice/substring), and PostgreSQL cannot store it exactly.`
    );
  }
  const { maxLength, maxBytes } = limits;
  if (maxLength !== undefined && value.length > maxLength) {
    return `must be at most ${maxLength} characters, got ${value.length}.`;
  }
  // Every UTF-16 code unit is 1 to 3 bytes of UTF-8: most strings need no encoding to be measured.
  if (maxBytes !== undefined && value.length * 3 > maxBytes) {
    const bytes = Buffer.byteLength(value, 'utf8');
    if (bytes > maxBytes) return `must be at most ${maxBytes} bytes of UTF-8, got ${bytes}.`;
  }
  return undefined;
}

/** Index of the first lone surrogate, or -1. */
export function loneSurrogateIndex(value: string): number {
  const match = LONE_SURROGATE.exec(value);
  return match ? match.index : -1;
}

/**
 * Any string made storable, for texts that must always be recorded (error names, messages, stacks):
 * U+0000 and lone surrogates become U+FFFD (the Unicode replacement character, what a UTF-8 decoder shows
 * for bytes it cannot read; chosen over an escape like `\0` because an escape could not be told apart
 * from the same characters typed in a message), and a text over `maxBytes` of UTF-8 is cut on a code point
 * boundary and ends with `… [truncated N bytes]`, the whole staying within `maxBytes`. A string that is
 * already storable and short enough is returned as is (no copy: the common case costs two native scans).
 */
export function toStorableText(value: string, maxBytes: number): string {
  let text = value;
  if (text.indexOf('\0') !== -1) text = text.replace(/\0/g, REPLACEMENT_CHARACTER);
  if (!isWellFormed(text)) text = text.replace(LONE_SURROGATES, REPLACEMENT_CHARACTER);
  if (text.length * 3 <= maxBytes) return text;
  const total = Buffer.byteLength(text, 'utf8');
  return total <= maxBytes ? text : truncate(text, total, maxBytes);
}

/** The end marker of a truncated text. */
function marker(cutBytes: number): string {
  return `… [truncated ${cutBytes} bytes]`;
}

function truncate(text: string, total: number, maxBytes: number): string {
  // The marker is sized for the largest possible count (every byte cut): the real one is never longer.
  const markerBytes = Buffer.byteLength(marker(total), 'utf8');
  // A limit smaller than the marker itself: a bare cut is all that fits.
  const withMarker = maxBytes >= markerBytes;
  const budget = withMarker ? maxBytes - markerBytes : Math.max(0, maxBytes);
  // Encode only a prefix: `budget + 1` code units are at least `budget + 1` bytes. A prefix ending on a
  // high surrogate would encode it as U+FFFD, so the prefix ends before it.
  let end = Math.min(text.length, budget + 1);
  const last = text.charCodeAt(end - 1);
  if (end < text.length && last >= 0xd800 && last <= 0xdbff) end--;
  const bytes = Buffer.from(text.slice(0, end), 'utf8');
  let cut = Math.min(budget, bytes.length);
  // Back up over UTF-8 continuation bytes (10xxxxxx) so the cut falls on a code point boundary.
  while (cut > 0 && cut < bytes.length && (bytes[cut] & 0xc0) === 0x80) cut--;
  const kept = bytes.toString('utf8', 0, cut);
  return withMarker ? kept + marker(total - cut) : kept;
}
