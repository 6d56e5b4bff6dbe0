import { isTransientDatabaseError } from './transient-error';

const pgError = (code: string) => Object.assign(new Error('pg'), { code });

describe('isTransientDatabaseError', () => {
  it.each([
    ['lock_timeout', '55P03'],
    ['statement_timeout', '57014'],
    ['a deadlock', '40P01'],
    ['a serialization failure', '40001'],
    ['admin shutdown', '57P01'],
    ['cannot connect now', '57P03'],
    ['a connection exception', '08006'],
    ['too many connections', '53300'],
  ])('is true for %s (%s)', (_what, code) => {
    expect(isTransientDatabaseError(pgError(code))).toBe(true);
  });

  it('is true for a connection refused or lost', () => {
    expect(isTransientDatabaseError(pgError('ECONNREFUSED'))).toBe(true);
    expect(isTransientDatabaseError(new Error('Connection terminated unexpectedly'))).toBe(true);
    expect(isTransientDatabaseError(new Error('timeout exceeded when trying to connect'))).toBe(
      true,
    );
  });

  it.each([
    ['a NOT NULL violation', '23502'],
    ['an unstorable string', '22P05'],
    ['a missing table', '42P01'],
    ['bad credentials', '28P01'],
  ])('is false for %s (%s): the same statement would fail again', (_what, code) => {
    expect(isTransientDatabaseError(pgError(code))).toBe(false);
  });

  it('is false for anything that is not a database error', () => {
    for (const value of [new Error('boom'), undefined, null, 'text', { code: 42 }]) {
      expect(isTransientDatabaseError(value)).toBe(false);
    }
  });
});
