import { Maintenance } from './maintenance';
import { FakeWorkerStore, memoryLogger } from './worker-store.fixture-spec';

const PURGE_BATCH = 7;
const retention = {
  completedMs: 10,
  failedMs: 20,
  cancelledMs: 30,
  intervalMs: 1_000,
  batchSize: PURGE_BATCH,
};

describe('Maintenance', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('deletes each state past its retention in batches of batchSize, each from where the last stopped', async () => {
    const store = new FakeWorkerStore();
    const left = { completed: 2 * PURGE_BATCH + 3, failed: 0, cancelled: 1 };
    let batches = 0;
    store.override.purgeFinished = async ({ state, limit }) => {
      const deleted = Math.min(limit, left[state]);
      left[state] -= deleted;
      return { deleted, last: deleted ? `t${++batches}` : null };
    };
    const sweeper = new Maintenance(store, retention, memoryLogger());
    expect(await sweeper.sweep()).toBe(2 * PURGE_BATCH + 4);
    const batch = { limit: PURGE_BATCH };
    expect(store.callsOf('purgeFinished')).toEqual([
      [{ ...batch, state: 'completed', olderThanMs: 10, after: null }],
      [{ ...batch, state: 'completed', olderThanMs: 10, after: 't1' }],
      [{ ...batch, state: 'completed', olderThanMs: 10, after: 't2' }],
      [{ ...batch, state: 'failed', olderThanMs: 20, after: null }],
      [{ ...batch, state: 'cancelled', olderThanMs: 30, after: null }],
    ]);
  });

  it('stops between batches when the worker stops', async () => {
    const store = new FakeWorkerStore();
    const sweeper = new Maintenance(store, retention, memoryLogger());
    store.override.purgeFinished = async () => {
      void sweeper.stop();
      return { deleted: PURGE_BATCH, last: 't' };
    };
    expect(await sweeper.sweep()).toBe(PURGE_BATCH);
    expect(store.callsOf('purgeFinished')).toHaveLength(1);
  });

  it('sweeps on its interval, one sweep at a time, and logs a failure', async () => {
    const store = new FakeWorkerStore();
    const logger = memoryLogger();
    let finish: (batch: { deleted: number; last: null }) => void = () => undefined;
    store.override.purgeFinished = () => new Promise((resolve) => (finish = resolve));
    const sweeper = new Maintenance(store, retention, logger);
    sweeper.start();
    await jest.advanceTimersByTimeAsync(3_000);
    expect(store.callsOf('purgeFinished')).toHaveLength(1);
    store.override.purgeFinished = () => Promise.reject(new Error('db gone'));
    finish({ deleted: 0, last: null });
    await jest.advanceTimersByTimeAsync(1_000);
    expect(logger.lines).toContain('warn: Retention sweep failed: db gone');
    await sweeper.stop();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(store.callsOf('purgeFinished')).toHaveLength(3);
  });
});
