/**
 * Seeded random values for the property-style specs of `values/` (unit and e2e). No dependency: a
 * 32-bit PRNG (mulberry32) is enough to cover the interesting shapes, and a seed makes every failure
 * reproducible: `VALUES_SEED=<seed> npm test -- values`.
 */

/** A deterministic source of numbers in [0, 1). */
export type Random = () => number;

/** The seed of this run: `VALUES_SEED` when set, else a fixed default (runs are deterministic). */
export const VALUES_SEED = Number(process.env.VALUES_SEED ?? 0x5eed_13);

/** mulberry32: small, fast, and good enough for test data. */
export function seededRandom(seed: number): Random {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** An integer in [0, n). */
export function below(random: Random, n: number): number {
  return Math.floor(random() * n);
}

/** One of the items. */
export function pick<T>(random: Random, items: readonly T[]): T {
  return items[below(random, items.length)];
}

/** Pieces that strings are made of: the ones PostgreSQL refuses, the tricky valid ones, plain text. */
const PIECES = [
  'a',
  'Zz9',
  ' ',
  '\t',
  '\n',
  '\u0000', // NUL: refused by text and jsonb
  '\ud800', // lone high surrogate
  '\udfff', // lone low surrogate
  '\ud83d\ude00', // 😀, a valid pair
  '👩‍👩‍👧', // a ZWJ sequence of pairs
  'é',
  '中文',
  '\u007f',
  '\ufffd',
  '\\u0000', // backslash-u text: looks like an escape in JSON, is storable
  '\\ud800',
  '"',
  '\\',
  '\u2028',
  'x'.repeat(300),
];

/** A random string: empty, short, mixed, or about 10 KB (which then crosses every length limit). */
export function randomString(random: Random): string {
  const shape = below(random, 10);
  if (shape === 0) return '';
  const count = shape === 9 ? 40 + below(random, 40) : 1 + below(random, 6);
  let s = '';
  for (let i = 0; i < count; i++) s += pick(random, PIECES);
  // A slice can cut a pair in half: the way lone surrogates usually happen.
  return random() < 0.1 ? s.slice(0, Math.max(0, s.length - 1)) : s;
}

/** Numbers at and around every boundary the checks care about. */
const NUMBERS = [
  0,
  -0,
  1,
  -1,
  0.5,
  1.5,
  -2.5,
  NaN,
  Infinity,
  -Infinity,
  2 ** 31 - 1,
  2 ** 31,
  -(2 ** 31),
  -(2 ** 31) - 1,
  2 ** 53 - 1,
  2 ** 53 + 2,
  -(2 ** 53),
  1e15,
  1e16,
  1e20,
  1e300,
  Number.MIN_VALUE,
  Number.MAX_VALUE,
  3_155_760_000_000,
  3_155_760_000_001,
  253_402_300_799_999, // 9999-12-31T23:59:59.999Z
  253_402_300_800_000, // year 10000
  -62_167_219_200_000, // year 0
];

/** A random number: a boundary value, or a random integer or fraction of any magnitude. */
export function randomNumber(random: Random): number {
  const shape = below(random, 4);
  if (shape < 2) return pick(random, NUMBERS);
  const magnitude = 10 ** below(random, 22);
  const n = (random() - 0.5) * 2 * magnitude;
  return shape === 2 ? Math.round(n) : n;
}

/** Anything a JavaScript caller might pass where a string or a number is expected. */
export function randomUnknown(random: Random): unknown {
  switch (below(random, 12)) {
    case 0:
    case 1:
    case 2:
      return randomString(random);
    case 3:
    case 4:
    case 5:
      return randomNumber(random);
    case 6:
      return pick(random, [undefined, null, true, false]);
    case 7:
      return BigInt(Math.round(randomNumber(random) % 1e15 || 0)) * pick(random, [1n, 10n ** 6n]);
    case 8:
      return pick(random, [{}, { id: 1 }, [], [1], new Date(0), new Date(NaN), new Map()]);
    case 9:
      return pick(random, [Symbol('s'), () => 1, Object.create(null) as object]);
    case 10:
      return new Date(randomNumber(random));
    default:
      return String(Math.round(randomNumber(random)));
  }
}

/** A random JSON-ish value: plain data mostly, with every kind of value JSON mishandles mixed in. */
export function randomJsonish(random: Random, depth = 0): unknown {
  const leaf = depth > 4 || random() < 0.45;
  if (leaf) {
    switch (below(random, 10)) {
      case 0:
      case 1:
      case 2:
        return randomString(random);
      case 3:
      case 4:
        return randomNumber(random);
      case 5:
        return pick(random, [true, false, null]);
      case 6:
        return pick(random, [undefined, () => 1, Symbol('s'), 10n]);
      case 7:
        return pick(random, [
          new Date(1_700_000_000_000),
          new Date(NaN),
          new Map([[1, 2]]),
          new Set([1]),
        ]);
      default:
        return randomString(random);
    }
  }
  const size = below(random, 5);
  if (random() < 0.4) return Array.from({ length: size }, () => randomJsonish(random, depth + 1));
  const object: Record<string, unknown> = {};
  for (let i = 0; i < size; i++)
    object[randomString(random).slice(0, 20)] = randomJsonish(random, depth + 1);
  return object;
}

/** Runs `body` and, when it throws, rethrows with the seed in front, so the failure can be replayed. */
export function withSeed(seed: number, body: () => void): void {
  try {
    body();
  } catch (error) {
    (error as Error).message = `[VALUES_SEED=${seed}] ${(error as Error).message}`;
    throw error;
  }
}

/** `withSeed` for an async body. */
export async function withSeedAsync(seed: number, body: () => Promise<void>): Promise<void> {
  try {
    await body();
  } catch (error) {
    (error as Error).message = `[VALUES_SEED=${seed}] ${(error as Error).message}`;
    throw error;
  }
}
