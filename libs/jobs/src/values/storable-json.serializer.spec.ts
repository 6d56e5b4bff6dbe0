import { mayHoldUnstorableText, toStorableJson } from './storable-json.serializer';

const strict = (
  value: unknown,
  extra: {
    maxBytes?: number;
    allowClassInstances?: boolean;
    allowUndefinedProperties?: boolean;
  } = {},
) => toStorableJson(value, { mode: 'strict', maxBytes: 1_000_000, ...extra });
const replace = (value: unknown, maxBytes = 1_000_000) =>
  toStorableJson(value, { mode: 'replace', maxBytes });

class Point {
  constructor(
    readonly x: number,
    readonly y: number,
  ) {}
}

describe('toStorableJson, strict mode (payloads)', () => {
  it('returns JSON.stringify’s text for plain data, Dates as ISO strings, undefined as null', () => {
    const value = { a: [1, 'two', null, true], b: { c: '😀' }, at: new Date(0) };
    expect(strict(value)).toEqual({ json: JSON.stringify(value) });
    expect(strict(undefined)).toEqual({ json: 'null' });
    expect(strict(Object.assign(Object.create(null) as object, { k: 1 }))).toEqual({
      json: '{"k":1}',
    });
  });

  it.each([
    ['NaN', { a: { b: NaN } }, '$.a.b', 'must be a finite number, got NaN'],
    ['Infinity in an array', { list: [1, -Infinity] }, '$.list[1]', 'got -Infinity'],
    ['undefined as a value', { a: undefined }, '$.a', 'must not be undefined'],
    ['undefined in an array', [1, undefined], '$[1]', 'must not be undefined'],
    ['a hole in an array', [1, , 3], '$[1]', 'must not be undefined'],
    ['a function', { run: () => 1 }, '$.run', 'must not be a function'],
    ['a symbol', { s: Symbol('x') }, '$.s', 'must not be a symbol'],
    ['a bigint', { id: 10n }, '$.id', 'must not be a bigint (10n (a bigint))'],
    ['a Map', { m: new Map([[1, 2]]) }, '$.m', 'got an instance of Map'],
    ['a Set', { s: new Set([1]) }, '$.s', 'got an instance of Set'],
    ['a typed array', { b: new Uint8Array(2) }, '$.b', 'got an instance of Uint8Array'],
    ['a Buffer', { b: Buffer.from('x') }, '$.b', 'got an instance of Buffer'],
    ['a class instance', { p: new Point(1, 2) }, '$.p', 'got an instance of Point'],
    ['an invalid Date', { at: new Date(NaN) }, '$.at', 'must be a valid Date'],
    ['a toJSON method on a plain object', { toJSON: () => 1 }, '$.toJSON', 'a function'],
    [
      'NUL in a string',
      { note: 'a\u0000b' },
      '$.note',
      'must not contain U+0000 (NUL, at index 1)',
    ],
    ['a lone surrogate', { deep: [{ s: '\ud800' }] }, '$.deep[0].s', 'lone UTF-16 surrogate'],
    ['NUL in a key', { 'k\u0000': 1 }, '$["k\\u0000"]', 'the key must not contain U+0000'],
    ['a lone surrogate in a key', { ok: { '\udc00': 1 } }, '$.ok["\\udc00"]', 'the key must not'],
  ])('refuses %s, naming its path', (_what, value, path, problem) => {
    const outcome = strict(value);
    expect(outcome.json).toBeUndefined();
    expect(outcome.path).toBe(path);
    expect(outcome.problem).toContain(problem);
  });

  it('accepts text that only looks like an escape (a backslash, then u0000 or ud800)', () => {
    const value = { path: 'C:\\udp\\u0000', raw: '\\ud800' };
    expect(strict(value)).toEqual({ json: JSON.stringify(value) });
  });

  it('names a cycle by the place it refers back to', () => {
    const root: Record<string, unknown> = { a: { b: {} } };
    (root.a as { b: Record<string, unknown> }).b.back = root.a;
    expect(strict(root)).toEqual({
      problem: expect.stringContaining('must not refer back to $.a, which contains it (a cycle)'),
      path: '$.a.b.back',
    });
  });

  it('accepts a shared (non-cyclic) reference, as JSON repeats it', () => {
    const shared = { n: 1 };
    expect(strict({ x: shared, y: [shared] }).json).toBe('{"x":{"n":1},"y":[{"n":1}]}');
  });

  it('refuses nesting over maxDepth (deep payloads make class-transformer throw RangeError)', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 101; i++) deep = [deep];
    expect(strict(deep).problem).toBe('must not be nested deeper than 100 levels.');
    let ok: unknown = 1;
    for (let i = 0; i < 100; i++) ok = [ok];
    expect(strict(ok).json).toBeDefined();
    let big: unknown = 1;
    for (let i = 0; i < 100_000; i++) big = { a: big };
    expect(strict(big).problem).toContain('deeper than 100 levels');
  });

  it('turns a throwing getter, Proxy trap or toJSON into a problem at its path', () => {
    const getter = {
      ok: 1,
      get bad(): number {
        throw new Error('boom');
      },
    };
    expect(strict({ g: getter })).toEqual({
      problem: 'could not be read: its getter threw boom',
      path: '$.g.bad',
    });
    const proxy = new Proxy(
      {},
      {
        ownKeys: () => {
          throw new Error('trap');
        },
      },
    );
    expect(strict({ p: proxy })).toEqual({ problem: 'could not be read: trap', path: '$.p' });
    const { proxy: revoked, revoke } = Proxy.revocable({}, {});
    revoke();
    expect(strict([revoked]).path).toBe('$[0]');
  });

  it('with allowUndefinedProperties, leaves undefined properties out but still refuses them in arrays', () => {
    const options = { allowUndefinedProperties: true };
    expect(strict({ a: undefined, b: { c: undefined, d: 1 } }, options)).toEqual({
      json: '{"b":{"d":1}}',
    });
    expect(strict({ list: [1, undefined] }, options)).toMatchObject({ path: '$.list[1]' });
    expect(strict({ f: () => 1 }, options)).toMatchObject({ path: '$.f' });
  });

  it('with allowClassInstances, walks instances as JSON.stringify does (own fields, or toJSON)', () => {
    expect(strict({ p: new Point(1, 2) }, { allowClassInstances: true }).json).toBe(
      '{"p":{"x":1,"y":2}}',
    );
    class Money {
      toJSON() {
        return { cents: NaN };
      }
    }
    expect(strict({ m: new Money() }, { allowClassInstances: true })).toMatchObject({
      path: '$.m.cents',
    });
    class Thrower {
      toJSON(): never {
        throw new Error('no');
      }
    }
    expect(strict([new Thrower()], { allowClassInstances: true })).toEqual({
      problem: 'could not be read: no',
      path: '$[0]',
    });
    // Still refused: built-ins whose contents JSON cannot see.
    expect(strict({ m: new Map() }, { allowClassInstances: true }).path).toBe('$.m');
  });

  it('refuses JSON over maxBytes, counting UTF-8 bytes and naming the option', () => {
    const outcome = toStorableJson(
      { s: '中'.repeat(10) },
      { mode: 'strict', maxBytes: 32, limitName: 'maxPayloadBytes' },
    );
    expect(outcome).toEqual({
      problem:
        'is 38 bytes of JSON, over the 32-byte limit (maxPayloadBytes); store large data elsewhere and pass its id',
      path: '$',
    });
    expect(strict({ s: '中'.repeat(10) }, { maxBytes: 38 }).json).toBeDefined();
  });
});

describe('toStorableJson, replace mode (results)', () => {
  it('is JSON.stringify with nothing reported for storable values, lossy rules included', () => {
    const value = {
      a: 1,
      n: NaN,
      u: undefined,
      f: () => 1,
      m: new Map([[1, 2]]),
      list: [undefined],
    };
    expect(replace(value)).toEqual({ json: JSON.stringify(value), replaced: [], replacedCount: 0 });
    expect(replace(undefined).json).toBe('null');
  });

  it('replaces U+0000 and lone surrogates in strings and keys with U+FFFD, and reports where', () => {
    const outcome = replace({ text: 'a\u0000b', list: ['\ud800'], 'k\u0000': 1 });
    expect(JSON.parse(outcome.json)).toEqual({ text: 'a\ufffdb', list: ['\ufffd'], 'k\ufffd': 1 });
    expect(outcome.replaced.map((r) => r.path)).toEqual(['$.text', '$.list[0]', '$["k\\u0000"]']);
    expect(outcome.replacedCount).toBe(3);
  });

  it('stores what JSON.stringify cannot: bigints as strings, cycles and unreadable values as markers', () => {
    const cyclic: Record<string, unknown> = { id: 7n };
    cyclic.self = cyclic;
    const outcome = replace({
      c: cyclic,
      get bad(): number {
        throw new Error('getter\u0000boom');
      },
    });
    expect(JSON.parse(outcome.json)).toEqual({
      c: { id: '7', self: '[circular]' },
      bad: '[unreadable: getter\ufffdboom]',
    });
    expect(outcome.replaced.map((r) => r.path)).toEqual(['$.c.id', '$.c.self', '$.bad']);
  });

  it('replaces nesting deeper than maxDepth, and keeps going', () => {
    let deep: unknown = 'bottom';
    for (let i = 0; i < 20_000; i++) deep = [deep];
    const outcome = replace({ deep, after: 'x\u0000' });
    expect(outcome.json.length).toBeLessThan(1_000);
    expect(outcome.replaced.map((r) => r.problem)).toEqual([
      'was nested deeper than 100 levels: replaced with a marker',
      'had U+0000 or a lone surrogate: replaced with U+FFFD',
    ]);
  });

  it('keeps a __proto__ key as data', () => {
    const value = JSON.parse('{"__proto__":{"x":"\\u0000"}}') as unknown;
    expect(JSON.parse(replace(value).json)).toEqual(JSON.parse('{"__proto__":{"x":"\\ufffd"}}'));
  });

  it('replaces a result over maxBytes by a string that says so', () => {
    const outcome = replace({ s: 'x'.repeat(500) }, 200);
    expect(JSON.parse(outcome.json)).toBe(
      '[not stored: it is 508 bytes of JSON, over the 200-byte limit; store large data elsewhere and pass its id]',
    );
    expect(outcome.replacedCount).toBe(1);
    expect(replace({ s: 'x'.repeat(500) }, 10).json).toBe('null');
  });

  it('lists the first 10 replacements and counts them all', () => {
    const outcome = replace(Array.from({ length: 50 }, () => '\u0000'));
    expect(outcome.replaced).toHaveLength(10);
    expect(outcome.replacedCount).toBe(50);
  });
});

describe('mayHoldUnstorableText', () => {
  it('spots the escapes JSON.stringify writes for NUL and lone surrogates only', () => {
    expect(mayHoldUnstorableText(JSON.stringify('a\u0000'))).toBe(true);
    expect(mayHoldUnstorableText(JSON.stringify('\ud800'))).toBe(true);
    expect(mayHoldUnstorableText(JSON.stringify('\udfff'))).toBe(true);
    expect(mayHoldUnstorableText(JSON.stringify('😀 \u0001 \u001f'))).toBe(false);
    expect(mayHoldUnstorableText(JSON.stringify('\\ud7ff'))).toBe(false);
    // A false alarm by design (a backslash typed before "udc"): the slow path then finds nothing.
    expect(mayHoldUnstorableText(JSON.stringify('\\udc00'))).toBe(true);
    expect(toStorableJson('\\udc00', { mode: 'strict', maxBytes: 100 }).json).toBe('"\\\\udc00"');
  });
});
