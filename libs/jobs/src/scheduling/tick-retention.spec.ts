import { Logger } from '@nestjs/common';
import { resolveJobsOptions } from '../jobs-options';
import type { TicksRepository } from '../persistence/ticks.repository';
import { TICK_PURGE_INTERVAL_MS, TICK_RETENTION_MS, TickRetention } from './tick-retention';

describe('TickRetention', () => {
  const purge = jest.fn<Promise<void>, [number]>();
  const ticks = { purge } as unknown as TicksRepository;

  beforeEach(() => {
    jest.useFakeTimers();
    purge.mockReset().mockResolvedValue(undefined);
  });

  afterEach(() => {
    jest.useRealTimers();
    jest.restoreAllMocks();
  });

  it('purges tick records older than 30 days every hour while recurring is enabled', async () => {
    const retention = new TickRetention(ticks, resolveJobsOptions({}));
    retention.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(TICK_PURGE_INTERVAL_MS - 1);
    expect(purge).not.toHaveBeenCalled();
    await jest.advanceTimersByTimeAsync(1);
    expect(purge).toHaveBeenCalledWith(30 * 86_400_000);
    expect(TICK_RETENTION_MS).toBe(30 * 86_400_000);
    await jest.advanceTimersByTimeAsync(TICK_PURGE_INTERVAL_MS);
    expect(purge).toHaveBeenCalledTimes(2);

    retention.beforeApplicationShutdown();
    await jest.advanceTimersByTimeAsync(10 * TICK_PURGE_INTERVAL_MS);
    expect(purge).toHaveBeenCalledTimes(2);
    expect(jest.getTimerCount()).toBe(0);
  });

  it('does not run where recurring is disabled', async () => {
    const retention = new TickRetention(
      ticks,
      resolveJobsOptions({ recurring: { enabled: false } }),
    );
    retention.onApplicationBootstrap();
    expect(jest.getTimerCount()).toBe(0);
    retention.beforeApplicationShutdown();
  });

  it('logs a failed purge and tries again on the next interval', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    purge.mockRejectedValueOnce(new Error('connection lost'));
    const retention = new TickRetention(ticks, resolveJobsOptions({}));
    retention.onApplicationBootstrap();
    await jest.advanceTimersByTimeAsync(TICK_PURGE_INTERVAL_MS);
    expect(warn).toHaveBeenCalledWith('Tick record purge failed: connection lost');
    await jest.advanceTimersByTimeAsync(TICK_PURGE_INTERVAL_MS);
    expect(purge).toHaveBeenCalledTimes(2);
    retention.beforeApplicationShutdown();
  });
});
