import { progressFraction } from './job.page';

describe('progressFraction', () => {
  it('reads a number as a percentage and { done | current, total } as a count, clamped to 0..1', () => {
    expect(progressFraction(42)).toBe(0.42);
    expect(progressFraction(250)).toBe(1);
    expect(progressFraction(-5)).toBe(0);
    expect(progressFraction({ done: 3, total: 4 })).toBe(0.75);
    expect(progressFraction({ current: 1, total: 8, note: 'x' })).toBe(0.125);
    expect(progressFraction({ done: 9, total: 3 })).toBe(1);
  });

  it('gives no bar for values that are not a fraction', () => {
    for (const value of [
      { invoiced: 3 },
      { done: 1, total: 0 },
      { done: '1', total: 2 },
      { done: 1, total: -2 },
      { done: Infinity, total: 2 },
      Infinity,
      'half',
      [1, 2],
      null,
    ]) {
      expect(progressFraction(value)).toBeNull();
    }
  });
});
