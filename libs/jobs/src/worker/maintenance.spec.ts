import { Maintenance, PURGE_BATCH } from './maintenance';
import { FakeWorkerStore, memoryLogger } from './worker-store.fixture-spec';

const retention = { completedMs: 10, failedMs: 20, cancelledMs: 30, intervalMs: 1_000 };

describe('Maintenance', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('deletes each state past its retention in bounded batches, until a batch comes back short', async () => {
    const store = new FakeWorkerStore();
    const left = { completed: 2 * PURGE_BATCH + 3, failed: 0, cancelled: 1 };
    store.override.purgeFinished = async ({ states, limit }) => {
      const state = states[0] as keyof typeof left;
      const n = Math.min(limit, left[state]);
      left[state] -= n;
      return n;
    };
    const sweeper = new Maintenance(store, retention, memoryLogger());
    expect(await sweeper.sweep()).toBe(2 * PURGE_BATCH + 4);
    expect(store.callsOf('purgeFinished')).toEqual([
      [{ states: ['completed'], olderThanMs: 10, limit: PURGE_BATCH }],
      [{ states: ['completed'], olderThanMs: 10, limit: PURGE_BATCH }],
      [{ states: ['completed'], olderThanMs: 10, limit: PURGE_BATCH }],
      [{ states: ['failed'], olderThanMs: 20, limit: PURGE_BATCH }],
      [{ states: ['cancelled'], olderThanMs: 30, limit: PURGE_BATCH }],
    ]);
  });

  it('sweeps on its interval, one sweep at a time, and logs a failure', async () => {
    const store = new FakeWorkerStore();
    const logger = memoryLogger();
    let finish: (n: number) => void = () => undefined;
    store.override.purgeFinished = () => new Promise((resolve) => (finish = resolve));
    const sweeper = new Maintenance(store, retention, logger);
    sweeper.start();
    await jest.advanceTimersByTimeAsync(3_000);
    expect(store.callsOf('purgeFinished')).toHaveLength(1);
    store.override.purgeFinished = () => Promise.reject(new Error('db gone'));
    finish(0);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(logger.lines).toContain('warn: Retention sweep failed: db gone');
    await sweeper.stop();
    await jest.advanceTimersByTimeAsync(5_000);
    expect(store.callsOf('purgeFinished')).toHaveLength(3);
  });
});
