import { isPlainJson } from './json-fast-path.check';
import { toStorableJson } from './storable-json.serializer';

describe('isPlainJson (strict mode’s fast path)', () => {
  it('passes plain data, null-prototype objects and valid Dates', () => {
    const value = {
      a: [1, 'x', null, false, { b: new Date(0) }],
      c: Object.create(null) as object,
    };
    expect(isPlainJson(value, 100)).toBe(true);
  });

  it.each([
    ['NaN', [NaN]],
    ['undefined', { a: undefined }],
    ['a hole', [1, , 2]],
    ['a function', { f: () => 1 }],
    ['a bigint', [1n]],
    ['a Map', { m: new Map() }],
    ['an invalid Date', [new Date(NaN)]],
    ['a class instance', [new (class Point {})()]],
  ])('defers %s to the careful walk', (_what, value) => {
    expect(isPlainJson(value, 100)).toBe(false);
  });

  it('defers depth over the limit, and a throwing getter or Proxy, without throwing', () => {
    expect(isPlainJson([[[1]]], 2)).toBe(false);
    expect(isPlainJson([[1]], 2)).toBe(true);
    const getter = {
      get bad(): number {
        throw new Error('boom');
      },
    };
    expect(isPlainJson(getter, 100)).toBe(false);
    const { proxy, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(isPlainJson({ p: proxy }, 100)).toBe(false);
  });

  it('an enumerable key on a polluted Object.prototype only defers: the careful walk reads own keys', () => {
    const proto = Object.prototype as Record<string, unknown>;
    proto.polluted = () => 'x';
    try {
      expect(isPlainJson({ a: 1 }, 100)).toBe(false);
      expect(toStorableJson({ a: 1 }, { mode: 'strict', maxBytes: 100 })).toEqual({
        json: '{"a":1}',
      });
    } finally {
      delete proto.polluted;
    }
  });
});
