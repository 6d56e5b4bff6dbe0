import { isStorableJson, toStorableJson } from './storable-json';

describe('toStorableJson', () => {
  const storable = (value: unknown) => toStorableJson(JSON.stringify(value));

  it('returns ordinary JSON unchanged, control characters, emoji and backslashes included', () => {
    for (const value of ['plain', 'tab\there\u0001', '😀 pair', { 'k\\u0000': 'a\\u0000' }, 'é']) {
      const json = JSON.stringify(value);
      expect(toStorableJson(json)).toBe(json);
      expect(isStorableJson(json)).toBe(true);
    }
  });

  it('replaces NUL and lone surrogates by U+FFFD, in values and keys', () => {
    expect(JSON.parse(storable('a\u0000b'))).toBe('a\uFFFDb');
    expect(JSON.parse(storable('\ud800'))).toBe('\uFFFD');
    expect(JSON.parse(storable('x\udfffy'))).toBe('x\uFFFDy');
    expect(JSON.parse(storable({ 'k\u0000': ['\udbff', 1] }))).toEqual({
      'k\uFFFD': ['\uFFFD', 1],
    });
    expect(isStorableJson(JSON.stringify('\u0000'))).toBe(false);
  });

  it('tells an escaped backslash before "u0000" from a NUL escape', () => {
    expect(JSON.parse(storable('\\\u0000'))).toBe('\\\uFFFD');
    expect(JSON.parse(storable('\\\\u0000'))).toBe('\\\\u0000');
  });
});
