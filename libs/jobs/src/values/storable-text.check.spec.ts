import { checkStorableText, isWellFormed, toStorableText } from './storable-text.check';

describe('checkStorableText', () => {
  it('accepts ordinary text, emoji pairs and the replacement character', () => {
    for (const s of ['', 'orders.process', 'é中文', '😀👩‍👩‍👧', '\ufffd', '\\u0000 typed by hand']) {
      expect(checkStorableText(s)).toBeUndefined();
    }
  });

  it('refuses U+0000 with its index and the fix', () => {
    expect(checkStorableText('ab\u0000c')).toBe(
      'must not contain U+0000 (NUL, at index 2): PostgreSQL cannot store it in text or jsonb. ' +
        'Remove it, or encode binary data (base64).',
    );
  });

  it.each([
    ['a lone high surrogate', 'x\ud800y', 1],
    ['a lone low surrogate', 'xy\udc00', 2],
    ['an emoji cut in half', '😀😀'.slice(0, 3), 2],
  ])('refuses %s, naming its index', (_what, s, index) => {
    expect(checkStorableText(s)).toContain(`lone UTF-16 surrogate (at index ${index})`);
  });

  it('refuses a non-string without throwing', () => {
    expect(checkStorableText(42)).toBe('must be a string, got 42.');
    expect(checkStorableText({ toString: () => 'x' })).toBe('must be a string, got an object.');
  });

  it('bounds length in code units and size in UTF-8 bytes', () => {
    expect(checkStorableText('abcd', { maxLength: 3 })).toBe(
      'must be at most 3 characters, got 4.',
    );
    expect(checkStorableText('abc', { maxLength: 3 })).toBeUndefined();
    // 'é' is 2 bytes, '中' 3, '😀' 4 (two code units).
    expect(checkStorableText('éé', { maxBytes: 3 })).toBe(
      'must be at most 3 bytes of UTF-8, got 4.',
    );
    expect(checkStorableText('中', { maxBytes: 3 })).toBeUndefined();
    expect(checkStorableText('😀', { maxBytes: 4 })).toBeUndefined();
    expect(checkStorableText('😀', { maxBytes: 3 })).toContain('got 4');
  });
});

describe('isWellFormed', () => {
  it('agrees with the definition on pairs and lone halves', () => {
    expect(isWellFormed('a😀b')).toBe(true);
    expect(isWellFormed('\udc00\ud800')).toBe(false); // reversed pair: both are lone
    expect(isWellFormed('\ud800\udc00')).toBe(true);
  });
});

describe('toStorableText', () => {
  it('returns storable text that fits as it is (same string)', () => {
    const s = 'Job failed: 😀';
    expect(toStorableText(s, 1_000)).toBe(s);
  });

  it('replaces U+0000 and lone surrogates with U+FFFD and keeps valid pairs', () => {
    expect(toStorableText('a\u0000b\ud800c😀\udfff', 100)).toBe('a\ufffdb\ufffdc😀\ufffd');
  });

  it('truncates on a code point boundary with a marker, within maxBytes', () => {
    const s = '😀'.repeat(100); // 400 bytes
    const out = toStorableText(s, 100);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(100);
    expect(isWellFormed(out)).toBe(true);
    expect(out).toMatch(/^(😀)+… \[truncated \d+ bytes\]$/);
    const kept = out.slice(0, out.indexOf('…'));
    expect(out).toContain(`[truncated ${400 - Buffer.byteLength(kept)} bytes]`);
  });

  it('cuts a 10 MB message to the limit', () => {
    const out = toStorableText('x'.repeat(10_000_000), 8_192);
    expect(Buffer.byteLength(out)).toBeLessThanOrEqual(8_192);
    expect(out.endsWith(`… [truncated ${10_000_000 - out.indexOf('…')} bytes]`)).toBe(true);
  });

  it('counts the replacement characters in the size, and never cuts between a pair', () => {
    for (let max = 0; max < 60; max++) {
      const out = toStorableText(`\u0000😀é中\ud800`.repeat(4), max);
      expect(Buffer.byteLength(out)).toBeLessThanOrEqual(max);
      expect(isWellFormed(out)).toBe(true);
      expect(out.includes('\u0000')).toBe(false);
    }
  });

  it('falls back to a bare cut when even the marker does not fit', () => {
    expect(toStorableText('abcdefghijklmnopqrstuvwxyz'.repeat(2), 10)).toBe('abcdefghij');
  });
});
