import { checkDelayMs, checkInt4, checkPositiveInt4, checkTimerMs } from './numbers.check';

describe('checkInt4', () => {
  it.each([0, -0, 1, -1, 2 ** 31 - 1, -(2 ** 31)])('accepts %p', (n) => {
    expect(checkInt4(n)).toBeUndefined();
  });

  it.each([
    [2 ** 31, 'must be at most 2147483647 (the largest PostgreSQL integer), got 2147483648.'],
    [
      1e20,
      'must be at most 2147483647 (the largest PostgreSQL integer), got 100000000000000000000.',
    ],
    [-(2 ** 31) - 1, 'must be at least -2147483648, got -2147483649.'],
    [1.5, 'must be an integer, got 1.5.'],
    [NaN, 'must be an integer, got NaN.'],
    [Infinity, 'must be an integer, got Infinity.'],
    ['1', 'must be an integer, got "1".'],
    [1n, 'must be an integer, got 1n (a bigint).'],
  ])('refuses %p', (n, problem) => {
    expect(checkInt4(n)).toBe(problem);
  });

  it('narrows to a range, keeping the words of the option checks', () => {
    expect(checkInt4(0, { min: 1, max: 1_000 })).toBe('must be a positive integer, got 0.');
    expect(checkInt4(1_001, { min: 1, max: 1_000 })).toBe('must be at most 1000, got 1001.');
    expect(checkInt4(-1, { min: 0 })).toBe('must be a non-negative integer, got -1.');
    expect(checkInt4(5, { max: 2 ** 40 })).toBeUndefined();
    expect(checkInt4(2 ** 31, { max: 2 ** 40 })).toContain('at most 2147483647');
  });

  it('checkPositiveInt4 says what the module options always said', () => {
    expect(checkPositiveInt4(0)).toBe('must be a positive integer, got 0.');
    expect(checkPositiveInt4(1)).toBeUndefined();
    expect(checkPositiveInt4(2 ** 31)).toContain('at most 2147483647');
  });
});

describe('checkDelayMs', () => {
  it.each([0, -0, 0.5, 5_000, 3_155_760_000_000])('accepts %p', (n) => {
    expect(checkDelayMs(n)).toBeUndefined();
  });

  it.each([
    [-5, 'must be a non-negative number of milliseconds, got -5.'],
    [NaN, 'must be a non-negative number of milliseconds, got NaN.'],
    ['5', 'must be a non-negative number of milliseconds, got "5".'],
    [1e16, 'must be at most 3155760000000 ms (100 years), got 10000000000000000.'],
    [Infinity, 'must be at most 3155760000000 ms (100 years), got Infinity.'],
  ])('refuses %p', (n, problem) => {
    expect(checkDelayMs(n)).toBe(problem);
  });
});

describe('checkTimerMs', () => {
  it('accepts 1..2^31-1 by default, and 0 when min is 0', () => {
    expect(checkTimerMs(1)).toBeUndefined();
    expect(checkTimerMs(2 ** 31 - 1)).toBeUndefined();
    expect(checkTimerMs(0, { min: 0 })).toBeUndefined();
  });

  it.each([
    [0, 'must be a positive integer, got 0.'],
    [-1, 'must be a positive integer, got -1.'],
    [NaN, 'must be a positive integer, got NaN.'],
    [0.5, 'must be a positive integer, got 0.5.'],
    [
      2_592_000_000, // 30 days
      'must be at most 2147483647 ms (about 24.8 days: Node fires longer timers at once), got 2592000000.',
    ],
  ])('refuses %p', (n, problem) => {
    expect(checkTimerMs(n)).toBe(problem);
  });

  it('says non-negative when 0 is allowed', () => {
    expect(checkTimerMs(-1, { min: 0 })).toBe('must be a non-negative integer, got -1.');
  });
});
