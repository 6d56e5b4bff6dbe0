import { isMatch } from './job-matching';

describe('isMatch (partial deep match of payloads)', () => {
  it.each<[string, unknown, unknown, boolean]>([
    ['equal primitives', 1, 1, true],
    ['different primitives', 1, '1', false],
    ['NaN', NaN, NaN, true],
    ['a subset of keys', { a: 1, b: 2 }, { a: 1 }, true],
    ['a wrong value', { a: 1, b: 2 }, { a: 2 }, false],
    ['a missing key', { a: 1 }, { c: 1 }, false],
    ['an undefined key, absent', { a: 1 }, { c: undefined }, true],
    ['nested subsets', { a: { b: { c: 1, d: 2 } } }, { a: { b: { c: 1 } } }, true],
    ['null vs object', null, { a: 1 }, false],
    ['null vs null', { a: null }, { a: null }, true],
    ['arrays, same elements', { a: [1, 2] }, { a: [1, 2] }, true],
    ['arrays, other length', { a: [1, 2] }, { a: [1] }, false],
    ['arrays of partial objects', [{ a: 1, b: 2 }], [{ a: 1 }], true],
    ['array vs object', [1], { 0: 1 }, false],
    [
      'a Date vs its ISO string',
      { at: '2030-01-01T00:00:00.000Z' },
      { at: new Date('2030-01-01') },
      true,
    ],
    ['a Date vs another instant', { at: '2030-01-01T00:00:00.000Z' }, { at: new Date(0) }, false],
    ['a Date vs a Date', new Date(5), new Date(5), true],
    ['an empty pattern', { a: 1 }, {}, true],
  ])('%s', (_name, actual, expected, result) => {
    expect(isMatch(actual, expected)).toBe(result);
  });

  it('delegates to asymmetric matchers', () => {
    expect(isMatch({ id: 'x', n: 3 }, { id: expect.any(String), n: expect.anything() })).toBe(true);
    expect(isMatch({ id: 3 }, { id: expect.any(String) })).toBe(false);
    expect(isMatch({ tags: ['a', 'b'] }, { tags: expect.arrayContaining(['b']) })).toBe(true);
  });
});
