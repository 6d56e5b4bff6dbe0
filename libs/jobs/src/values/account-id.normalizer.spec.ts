import { InvalidAccountIdError, JobsError } from '../errors';
import { normalizeAccountId } from './account-id.normalizer';
import { isWellFormed } from './storable-text.check';

const cls = { from: 'cls', clsKey: 'accountId' } as const;
const option = { from: 'option', option: '[3].accountId' } as const;

function thrown(fn: () => unknown): InvalidAccountIdError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(InvalidAccountIdError);
    expect(error).toBeInstanceOf(JobsError);
    return error as InvalidAccountIdError;
  }
  throw new Error('expected InvalidAccountIdError');
}

describe('normalizeAccountId', () => {
  it.each([
    ['acme', 'acme'],
    ['42', '42'],
    ['b1f0c2d4-9a1e-4c3b-8f00-000000000001', 'b1f0c2d4-9a1e-4c3b-8f00-000000000001'],
    ['Société 😀', 'Société 😀'],
    [42, '42'],
    [-0, '0'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [42n, '42'],
  ])('uses %p as %p', (value, id) => {
    expect(normalizeAccountId(value, cls)).toBe(id);
  });

  it('makes 42, 42n and "42" the same tenant', () => {
    const ids = [42, 42n, '42'].map((v) => normalizeAccountId(v, cls));
    expect(new Set(ids)).toEqual(new Set(['42']));
  });

  it('passes undefined and null through: "no account" is the caller’s business', () => {
    expect(normalizeAccountId(undefined, cls)).toBeUndefined();
    expect(normalizeAccountId(null, option)).toBeNull();
  });

  it.each([
    ['an object', { id: 1 }, 'got an object.'],
    ['an array', ['a'], 'got an array of 1.'],
    ['NaN', NaN, 'got NaN, which is not a safe integer.'],
    ['Infinity', Infinity, 'got Infinity, which is not a safe integer.'],
    ['a fraction', 0.1 + 0.2, 'got 0.30000000000000004, which is not a safe integer.'],
    ['an unsafe integer', 2 ** 53, 'got 9007199254740992, which is not a safe integer.'],
    ['a boolean', true, 'got true.'],
    ['a symbol', Symbol('acme'), 'got a symbol.'],
    ['a function', () => 'acme', 'got a function.'],
    ['a Date', new Date(0), 'got the Date 1970-01-01T00:00:00.000Z.'],
    ['an empty string', '', 'got a blank string ("").'],
    ['a blank string', ' \t', 'got a blank string (" \\t").'],
    ['surrounding whitespace', ' 42', 'got " 42", which has surrounding whitespace.'],
    ['NUL', 'a\u0000', 'it must not contain U+0000'],
    ['a lone surrogate', '\ud800x', 'it must not contain a lone UTF-16 surrogate'],
    ['256 characters', 'a'.repeat(256), 'it must be at most 255 characters, got 256.'],
  ])('refuses %s with a typed error naming the source and the fix', (_what, value, problem) => {
    const error = thrown(() => normalizeAccountId(value, cls, 'orders.process'));
    expect(error.problem).toContain(problem);
    expect(error.message).toContain(
      'in ClsService key "accountId" (tenant.clsKey) for job "orders.process"',
    );
    expect(error.message).toContain("cls.set('accountId', account.id)");
  });

  it('merges no tenants: two different objects are both refused', () => {
    expect(() => normalizeAccountId({ id: 1 }, cls)).toThrow(InvalidAccountIdError);
    expect(() => normalizeAccountId({ id: 2 }, cls)).toThrow(InvalidAccountIdError);
  });

  it('names the option for an explicit accountId', () => {
    const error = thrown(() => normalizeAccountId({ id: 1 }, option, 'tenant.sweep'));
    expect(error.message).toBe(
      'Invalid account id in option "[3].accountId" for job "tenant.sweep": got an object. Account ids ' +
        'must be non-blank strings without surrounding whitespace (or safe integers, used as their ' +
        "decimal string). Pass the account's id itself: { accountId: account.id }.",
    );
    expect(thrown(() => normalizeAccountId([], { from: 'option' })).message).toContain(
      'option "accountId"',
    );
  });

  it('never echoes an unstorable value into its message', () => {
    const error = thrown(() => normalizeAccountId(' \u0000\ud800 ', cls));
    expect(error.message.includes('\u0000')).toBe(false);
    expect(isWellFormed(error.message)).toBe(true);
  });
});
