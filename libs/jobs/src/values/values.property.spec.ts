import { InvalidAccountIdError } from '../errors';
import {
  checkDelayMs,
  checkInt4,
  checkJobId,
  checkName,
  checkPositiveInt4,
  checkRunAt,
  checkStorableText,
  checkTimerMs,
  DELAY_MAX_MS,
  INT4_MAX,
  INT4_MIN,
  isWellFormed,
  NameKind,
  normalizeAccountId,
  RUN_AT_MAX_MS,
  RUN_AT_MIN_MS,
  TIMER_MAX_MS,
  toJobId,
  toStorableErrorText,
  toStorableJson,
  toStorableText,
} from '.';
import {
  randomJsonish,
  randomNumber,
  randomString,
  randomUnknown,
  seededRandom,
  VALUES_SEED,
  withSeed,
} from './value-samples.spec-helper';

const RUNS = 1_000;

/** Storable text: no NUL, no lone surrogate. */
const storable = (s: string) => !s.includes('\u0000') && isWellFormed(s);

/** What JSON.parse gives back for a value strict mode accepted (Dates become ISO strings, -0 becomes 0). */
function asJson(value: unknown): unknown {
  if (value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Object.is(value, -0)) return 0;
  if (Array.isArray(value)) return value.map(asJson);
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asJson(v)]));
  }
  return value;
}

/** Runs `check` on many random inputs; a checker returns a problem string or undefined, never throws. */
function forAll<T>(make: (random: () => number) => T, check: (value: T) => void): void {
  const random = seededRandom(VALUES_SEED);
  withSeed(VALUES_SEED, () => {
    for (let i = 0; i < RUNS; i++) check(make(random));
  });
}

const problemOrNothing = (p: unknown) =>
  expect(p === undefined || typeof p === 'string').toBe(true);

describe(`values: random inputs (seed ${VALUES_SEED})`, () => {
  it('checkStorableText accepts exactly the storable strings', () => {
    forAll(randomUnknown, (v) => {
      const problem = checkStorableText(v);
      problemOrNothing(problem);
      expect(problem === undefined).toBe(typeof v === 'string' && storable(v));
    });
  });

  it('toStorableText always returns storable text within maxBytes, unchanged when it can', () => {
    forAll(
      (r) => [randomString(r), Math.floor(r() * 200)] as const,
      ([s, max]) => {
        const out = toStorableText(s, max);
        expect(storable(out)).toBe(true);
        expect(Buffer.byteLength(out)).toBeLessThanOrEqual(max);
        if (storable(s) && Buffer.byteLength(s) <= max) expect(out).toBe(s);
      },
    );
  });

  it('number checks accept only values inside their documented ranges', () => {
    forAll(randomUnknown, (v) => {
      const n = v as number;
      const isInt = typeof v === 'number' && Number.isInteger(v);
      for (const p of [checkInt4(v), checkPositiveInt4(v), checkDelayMs(v), checkTimerMs(v)]) {
        problemOrNothing(p);
      }
      expect(checkInt4(v) === undefined).toBe(isInt && n >= INT4_MIN && n <= INT4_MAX);
      expect(checkPositiveInt4(v) === undefined).toBe(isInt && n >= 1 && n <= INT4_MAX);
      expect(checkTimerMs(v) === undefined).toBe(isInt && n >= 1 && n <= TIMER_MAX_MS);
      expect(checkDelayMs(v) === undefined).toBe(
        typeof v === 'number' && n >= 0 && n <= DELAY_MAX_MS,
      );
    });
    forAll(randomNumber, (n) => {
      if (checkTimerMs(n, { min: 0 }) === undefined) expect(n >= 0 && n <= TIMER_MAX_MS).toBe(true);
    });
  });

  it('job ids: the predicate, the normalizer and the checker agree, and ids are canonical', () => {
    forAll(randomUnknown, (v) => {
      const id = toJobId(v);
      problemOrNothing(checkJobId(v));
      expect(checkJobId(v) === undefined).toBe(id !== undefined);
      if (id !== undefined) {
        expect(id).toMatch(/^[1-9][0-9]{0,18}$/);
        expect(BigInt(id) <= 9_223_372_036_854_775_807n).toBe(true);
      }
    });
  });

  it('checkRunAt accepts only valid Dates in 1970..9999', () => {
    forAll(randomUnknown, (v) => {
      const problem = checkRunAt(v);
      problemOrNothing(problem);
      const ok = v instanceof Date && v.getTime() >= RUN_AT_MIN_MS && v.getTime() <= RUN_AT_MAX_MS;
      expect(problem === undefined).toBe(ok);
    });
  });

  it('checkName accepts only non-empty storable strings within the limits', () => {
    const kinds: NameKind[] = ['jobName', 'queue', 'scheduleKey', 'uniqueKey'];
    forAll(randomUnknown, (v) => {
      for (const kind of kinds) {
        const problem = checkName(v, kind);
        problemOrNothing(problem);
        if (problem === undefined) {
          expect(typeof v === 'string' && v !== '' && storable(v)).toBe(true);
          expect((v as string).length).toBeLessThanOrEqual(kind === 'uniqueKey' ? 512 : 255);
        }
      }
    });
  });

  it('normalizeAccountId returns a storable non-blank string, passes null/undefined, or throws its typed error', () => {
    forAll(randomUnknown, (v) => {
      let out: unknown;
      try {
        out = normalizeAccountId(v, { from: 'cls', clsKey: 'accountId' });
      } catch (error) {
        expect(error).toBeInstanceOf(InvalidAccountIdError);
        expect(storable((error as Error).message)).toBe(true);
        return;
      }
      if (v === undefined || v === null) return expect(out).toBe(v);
      expect(typeof out).toBe('string');
      const s = out as string;
      expect(s.trim()).toBe(s);
      expect(s.length > 0 && s.length <= 255 && storable(s)).toBe(true);
      // Never "[object Object]"-like: only strings and integers get through.
      expect(['string', 'number', 'bigint']).toContain(typeof v);
    });
  });

  it('toStorableJson strict: accepted values round-trip through JSON exactly; problems name a path', () => {
    forAll(
      (r) => randomJsonish(r),
      (v) => {
        const outcome = toStorableJson(v, { mode: 'strict', maxBytes: 4_096 });
        if (outcome.problem !== undefined) {
          expect(outcome.path).toMatch(/^\$/);
          expect(storable(outcome.problem) && storable(outcome.path)).toBe(true);
          return;
        }
        expect(mayStoreAsJsonb(outcome.json)).toBe(true);
        expect(Buffer.byteLength(outcome.json)).toBeLessThanOrEqual(4_096);
        expect(JSON.parse(outcome.json)).toEqual(asJson(v));
      },
    );
  });

  it('toStorableJson replace: always JSON that jsonb stores, within maxBytes', () => {
    forAll(
      (r) => randomJsonish(r),
      (v) => {
        const outcome = toStorableJson(v, { mode: 'replace', maxBytes: 2_048 });
        expect(mayStoreAsJsonb(outcome.json)).toBe(true);
        expect(Buffer.byteLength(outcome.json)).toBeLessThanOrEqual(2_048);
        expect(outcome.replaced.length).toBe(Math.min(outcome.replacedCount, 10));
        if (outcome.replacedCount === 0) expect(outcome.json).toBe(JSON.stringify(v) ?? 'null');
      },
    );
  });

  it('toStorableErrorText: anything thrown gives storable name, message and stack', () => {
    forAll(
      (r) => {
        const v = randomUnknown(r);
        return r() < 0.5 ? v : new Error(typeof v === 'string' ? v : String(typeof v));
      },
      (thrown) => {
        const text = toStorableErrorText(thrown, { message: 100 });
        expect(storable(text.name) && storable(text.message)).toBe(true);
        expect(Buffer.byteLength(text.message)).toBeLessThanOrEqual(100);
        if (text.stack !== undefined) expect(storable(text.stack)).toBe(true);
      },
    );
  });
});

/** JSON text holds no NUL or lone surrogate once parsed (what jsonb refuses), keys included. */
function mayStoreAsJsonb(json: string): boolean {
  const ok = (v: unknown): boolean => {
    if (typeof v === 'string') return storable(v);
    if (Array.isArray(v)) return v.every(ok);
    if (typeof v === 'object' && v !== null) {
      return Object.entries(v).every(([k, x]) => storable(k) && ok(x));
    }
    return true;
  };
  return ok(JSON.parse(json));
}
