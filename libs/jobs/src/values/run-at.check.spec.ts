import { checkRunAt } from './run-at.check';
import { runInNewContext } from 'node:vm';

describe('checkRunAt', () => {
  it.each(['1970-01-01T00:00:00.000Z', '2026-05-01T12:00:00.000Z', '9999-12-31T23:59:59.999Z'])(
    'accepts %s',
    (iso) => {
      expect(checkRunAt(new Date(iso))).toBeUndefined();
    },
  );

  it('accepts a Date from another realm', () => {
    expect(checkRunAt(runInNewContext('new Date(86400000)'))).toBeUndefined();
  });

  it.each([
    ['year 10000', new Date(Date.UTC(10000, 0, 1)), 'the Date +010000-01-01T00:00:00.000Z'],
    ['year 0', new Date('0000-01-01T00:00:00Z'), 'the Date 0000-01-01T00:00:00.000Z'],
    ['before 1970', new Date(-1), 'the Date 1969-12-31T23:59:59.999Z'],
    ['an invalid Date', new Date('not a date'), 'an invalid Date'],
    ['a number', Date.now(), String(Date.now()).slice(0, 6)],
    ['an ISO string', '2026-01-01T00:00:00Z', '"2026-01-01T00:00:00Z"'],
    [
      'a Date look-alike',
      { getTime: (): number => 0, [Symbol.toStringTag]: 'Date' } as unknown,
      'an object',
    ],
  ])('refuses %s', (_what, value, got) => {
    const problem = checkRunAt(value);
    expect(problem).toMatch(
      /^must be a valid Date from 1970-01-01T00:00:00.000Z to 9999-12-31T23:59:59.999Z, got /,
    );
    expect(problem).toContain(got);
  });
});
