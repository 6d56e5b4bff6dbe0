import { DEFAULT_BACKOFF } from '../jobs-options';
import { backoffDelay } from './backoff';

const noJitter = { ...DEFAULT_BACKOFF, jitter: 0 };
const err = new Error('boom');

describe('backoffDelay', () => {
  it('doubles from the base for exponential backoff', () => {
    expect([1, 2, 3, 4].map((a) => backoffDelay(noJitter, a, err))).toEqual([
      1000, 2000, 4000, 8000,
    ]);
  });

  it('never exceeds maxMs', () => {
    expect(backoffDelay({ ...noJitter, maxMs: 5000 }, 30, err)).toBe(5000);
  });

  it('supports linear, fixed, polynomial and custom policies', () => {
    expect(backoffDelay({ ...noJitter, type: 'linear' }, 3, err)).toBe(3000);
    expect(backoffDelay({ ...noJitter, type: 'fixed' }, 7, err)).toBe(1000);
    expect(backoffDelay({ ...noJitter, type: 'polynomial' }, 2, err)).toBe(1000 * 16 + 15_000);
    expect(backoffDelay({ ...noJitter, type: (a) => a * 7 }, 3, err)).toBe(21);
  });

  it('spreads delays by at most the jitter fraction', () => {
    const policy = { ...DEFAULT_BACKOFF, jitter: 0.5 };
    expect(backoffDelay(policy, 1, err, () => 0)).toBe(500);
    expect(backoffDelay(policy, 1, err, () => 1)).toBe(1500);
  });
});
