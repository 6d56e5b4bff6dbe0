import { MAX_ADAPTIVE_PREFETCH, PrefetchPolicy } from './prefetch';

describe('PrefetchPolicy', () => {
  let clock = 0;
  const now = () => clock;
  beforeEach(() => (clock = 0));

  it('uses a fixed prefetch as it is, whatever happens', () => {
    const policy = new PrefetchPolicy(4, 0, now);
    for (let i = 0; i < 10; i++) policy.afterClaim(true, true);
    for (let i = 0; i < 1_000; i++) policy.finished();
    clock = 1_000;
    expect(policy.size()).toBe(0);
    expect(new PrefetchPolicy(4, 7, now).size()).toBe(7);
  });

  it('starts adaptive prefetch at concurrency', () => {
    expect(new PrefetchPolicy(10, undefined, now).size()).toBe(10);
  });

  it('doubles on starvation after a full claim, up to the maximum, and halves on a short claim', () => {
    const policy = new PrefetchPolicy(10, undefined, now);
    policy.afterClaim(true, true);
    expect(policy.size()).toBe(20);
    policy.afterClaim(true, true);
    expect(policy.size()).toBe(40);
    policy.afterClaim(false, true); // a full claim without starving changes nothing
    expect(policy.size()).toBe(40);
    policy.afterClaim(true, false); // the queue ran dry
    expect(policy.size()).toBe(20);
    for (let i = 0; i < 20; i++) policy.afterClaim(true, true);
    expect(policy.size()).toBe(MAX_ADAPTIVE_PREFETCH);
    for (let i = 0; i < 20; i++) policy.afterClaim(false, false);
    expect(policy.size()).toBe(10); // never below concurrency
  });

  it('follows about 100 ms of work at the finish rate, smoothed over windows', () => {
    const policy = new PrefetchPolicy(2, undefined, now);
    for (let i = 0; i < 500; i++) policy.finished(); // 500 in 100 ms: 5,000/s
    clock = 100;
    expect(policy.size()).toBe(500);
    clock = 150; // inside the next window: no new measurement
    expect(policy.size()).toBe(500);
    clock = 200; // an idle window halves the smoothed rate
    expect(policy.size()).toBe(250);
  });

  it('caps the rate signal at the maximum', () => {
    const policy = new PrefetchPolicy(1, undefined, now);
    for (let i = 0; i < 100_000; i++) policy.finished();
    clock = 100;
    expect(policy.size()).toBe(MAX_ADAPTIVE_PREFETCH);
  });
});
