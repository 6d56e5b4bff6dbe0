import { checkJobId, isJobId, toJobId } from './job-id.check';

describe('job ids', () => {
  it.each([
    ['1', '1'],
    ['42', '42'],
    ['9223372036854775807', '9223372036854775807'],
    [42, '42'],
    [Number.MAX_SAFE_INTEGER, '9007199254740991'],
    [9223372036854775807n, '9223372036854775807'],
  ])('accepts %p as %p', (value, id) => {
    expect(toJobId(value)).toBe(id);
    expect(isJobId(value)).toBe(true);
    expect(checkJobId(value)).toBeUndefined();
  });

  it.each([
    '0',
    '-1',
    '007',
    ' 7',
    '7 ',
    '1e3',
    '1.0',
    'abc',
    '',
    '9223372036854775808',
    '99999999999999999999',
    0,
    -1,
    1.5,
    NaN,
    2 ** 53,
    0n,
    9223372036854775808n,
    null,
    undefined,
    {},
    ['1'],
  ])('refuses %p', (value) => {
    expect(toJobId(value)).toBeUndefined();
    expect(isJobId(value)).toBe(false);
    expect(checkJobId(value)).toMatch(
      /^must be a job id \(a decimal string from 1 to 9223372036854775807/,
    );
  });
});
