import { LeaseKeeper, WORKER_ROW_LOCK_TIMEOUT_MS } from './lease-keeper';
import { FakeWorkerStore, memoryLogger } from './worker-store.fixture-spec';

const worker = { id: 'w1', hostname: 'h', pid: 1, queues: ['*'], concurrency: 2 };

function setup(held: string[] = ['1', '2']) {
  const store = new FakeWorkerStore();
  const logger = memoryLogger();
  let rescued = 0;
  const keeper = new LeaseKeeper(
    store,
    {
      worker,
      leaseMs: 3_000,
      heartbeatIntervalMs: 1_000,
      rescueIntervalMs: 5_000,
      heldIds: () => held,
      rescued: () => rescued++,
    },
    logger,
  );
  return { store, logger, keeper, rescued: () => rescued };
}

/** A promise that settles only when `release` is called, as a statement blocked on a lock. */
function blocked() {
  let release: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (release = resolve));
  return { promise, release };
}

describe('LeaseKeeper', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('records the worker at start under a short lock timeout, and rescues at once', async () => {
    const { store, keeper } = setup();
    await keeper.start();
    expect(store.callsOf('upsertWorker')).toEqual([[worker, 500]]); // half the heartbeat interval
    expect(store.callsOf('rescue')).toHaveLength(1);
    expect(store.callsOf('forgetSilentWorkers')).toEqual([[30_000, 500]]);
    await keeper.stop();
    expect(WORKER_ROW_LOCK_TIMEOUT_MS).toBe(1_000);
  });

  it('extends leases every heartbeat even while the worker-row refresh is blocked', async () => {
    const { store, keeper } = setup();
    await keeper.start();
    const lock = blocked();
    store.override.upsertWorker = () => lock.promise;
    await jest.advanceTimersByTimeAsync(3_000);
    expect(store.callsOf('extendLeases')).toEqual([
      [['1', '2'], 'w1', 3_000],
      [['1', '2'], 'w1', 3_000],
      [['1', '2'], 'w1', 3_000],
    ]);
    // The blocked refresh is not stacked up: one in flight at a time.
    expect(store.callsOf('upsertWorker')).toHaveLength(2);
    lock.release();
    await jest.advanceTimersByTimeAsync(1_000);
    expect(store.callsOf('upsertWorker')).toHaveLength(3);
    await keeper.stop();
  });

  it('does not stack lease extensions either, and skips them when nothing is held', async () => {
    const { store, keeper } = setup();
    await keeper.start();
    const slow = blocked();
    store.override.extendLeases = () => slow.promise;
    await jest.advanceTimersByTimeAsync(3_000);
    expect(store.callsOf('extendLeases')).toHaveLength(1);
    slow.release();
    await jest.advanceTimersByTimeAsync(0);
    await keeper.stop();

    const idle = setup([]);
    await idle.keeper.start();
    await jest.advanceTimersByTimeAsync(2_000);
    expect(idle.store.callsOf('extendLeases')).toEqual([]);
    expect(idle.store.callsOf('upsertWorker')).toHaveLength(3);
    await idle.keeper.stop();
  });

  it('rescues on its interval, independently of forgetting silent workers, and tells when it rescued', async () => {
    const { store, keeper, rescued } = setup();
    const lock = blocked();
    store.override.forgetSilentWorkers = () => lock.promise;
    store.override.rescue = async () => 4;
    await keeper.start();
    await jest.advanceTimersByTimeAsync(10_000);
    expect(store.callsOf('rescue')).toHaveLength(3);
    expect(store.callsOf('forgetSilentWorkers')).toHaveLength(1);
    expect(rescued()).toBe(3);
    lock.release();
    await keeper.stop();
  });

  it('logs a failed statement and keeps going', async () => {
    const { store, keeper, logger } = setup();
    await keeper.start();
    store.override.extendLeases = () => Promise.reject(new Error('connection lost'));
    await jest.advanceTimersByTimeAsync(1_000);
    expect(logger.lines).toContain('warn: Could not extend leases: connection lost');
    delete store.override.extendLeases;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(store.callsOf('extendLeases')).toHaveLength(2);
    await keeper.stop();
  });

  it('on stop, clears its timers and removes the worker row', async () => {
    const { store, keeper } = setup();
    await keeper.start();
    await keeper.stop();
    expect(store.callsOf('deleteWorker')).toEqual([['w1', 500]]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(store.callsOf('extendLeases')).toEqual([]);
  });
});
