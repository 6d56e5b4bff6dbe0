import type { JobAttempt } from '../persistence/job-attempt';
import type { ClaimConnection, ClaimRequest } from '../persistence/worker-store';
import { DatabaseBackoff } from './database-backoff';
import { FetchLoop } from './fetch-loop';
import { PrefetchPolicy } from './prefetch';
import {
  attemptOf,
  connectionError,
  FakeWorkerStore,
  memoryLogger,
} from './worker-store.fixture-spec';

function setup(
  options: {
    concurrency?: number;
    prefetch?: number;
    limited?: boolean;
    listening?: ClaimConnection;
  } = {},
) {
  const store = new FakeWorkerStore();
  const logger = memoryLogger();
  const buffered: JobAttempt[] = [];
  const released: JobAttempt[] = [];
  const concurrency = options.concurrency ?? 2;
  const loop = new FetchLoop(
    {
      workerId: 'w1',
      concurrency,
      pollIntervalMs: 1_000,
      leaseMs: 5_000,
      queues: ['a'],
      limited: options.limited,
    },
    {
      store,
      buffer: {
        get length() {
          return buffered.length;
        },
        push: (jobs) => void buffered.push(...jobs),
      },
      executor: { size: 0 },
      batcher: { size: 0 },
      prefetch: new PrefetchPolicy(concurrency, options.prefetch ?? 0),
      backoff: new DatabaseBackoff(1_000, logger),
      release: async (jobs) => void released.push(...jobs),
      notifiedConnection: () => options.listening,
    },
  );
  return { store, logger, loop, buffered, released };
}

describe('FetchLoop', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  it('claims the free room, then sleeps for the poll interval when the queue ran dry', async () => {
    const { store, loop, buffered } = setup({ concurrency: 2, prefetch: 2 });
    store.queue.push(attemptOf('1'), attemptOf('2'), attemptOf('3'));
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(store.callsOf('claim')).toEqual([
      [{ limit: 4, workerId: 'w1', leaseMs: 5_000, queues: ['a'] }],
    ]);
    expect(buffered.map((j) => j.id)).toEqual(['1', '2', '3']);
    await jest.advanceTimersByTimeAsync(999);
    expect(store.callsOf('claim')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    // One free place of four, and the buffer is not dry: not worth a claim yet.
    expect(store.callsOf('claim')).toHaveLength(1);
    buffered.length = 0;
    await jest.advanceTimersByTimeAsync(1_000);
    expect(store.callsOf('claim')).toHaveLength(2);
    expect(store.callsOf('claim')[1]).toEqual([expect.objectContaining({ limit: 4 })]);
    await loop.stop();
  });

  it('with limits configured, claims with one limit cursor, kept across claims', async () => {
    const { store, loop } = setup({ limited: true });
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    loop.wake();
    await jest.advanceTimersByTimeAsync(0);
    const [first, second] = store
      .callsOf('claim')
      .map(([request]) => (request as ClaimRequest).limited);
    expect(first).toEqual({
      concurrencyKey: '',
      rateKey: '',
      limitedFirst: true,
      idleUntil: 0,
    });
    expect(second).toBe(first);
    await loop.stop();
  });

  it('claims on the LISTEN connection after a NOTIFY woke it, on the pool otherwise', async () => {
    const listening = { query: jest.fn() } as unknown as ClaimConnection;
    const { store, loop } = setup({ listening });
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    loop.wake(true); // a NOTIFY of new jobs while asleep
    await jest.advanceTimersByTimeAsync(0);
    loop.wake(); // a freed slot
    await jest.advanceTimersByTimeAsync(0);
    await jest.advanceTimersByTimeAsync(1_000); // the poll
    const connections = store
      .callsOf('claim')
      .map(([request]) => (request as { connection?: ClaimConnection }).connection);
    expect(connections).toEqual([undefined, listening, undefined, undefined]);
    await loop.stop();
  });

  it('wakes early on wake() (a NOTIFY, a freed slot)', async () => {
    const { store, loop } = setup();
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(store.callsOf('claim')).toHaveLength(1);
    loop.wake();
    await jest.advanceTimersByTimeAsync(0);
    expect(store.callsOf('claim')).toHaveLength(2);
    await loop.stop();
  });

  it('backs off after a failed claim: 200 ms, 400 ms, … and starts over after a success', async () => {
    const { store, loop, logger } = setup();
    let failures = 3;
    store.override.claim = async () => {
      if (failures-- > 0) throw connectionError();
      return [];
    };
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    expect(store.callsOf('claim')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(199);
    expect(store.callsOf('claim')).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1);
    expect(store.callsOf('claim')).toHaveLength(2);
    await jest.advanceTimersByTimeAsync(400);
    expect(store.callsOf('claim')).toHaveLength(3);
    await jest.advanceTimersByTimeAsync(800);
    expect(store.callsOf('claim')).toHaveLength(4); // succeeded: now the poll interval
    expect(logger.lines.filter((l) => l.startsWith('error: Could not claim jobs'))).toHaveLength(3);
    await loop.stop();
  });

  it('drops from a claim the jobs cancelled while it was out, for that claim only', async () => {
    const { store, loop, buffered } = setup({ concurrency: 3 });
    store.queue.push(attemptOf('1'), attemptOf('2'), attemptOf('3'));
    let answer: (jobs: JobAttempt[]) => void = () => undefined;
    store.override.claim = () => new Promise((resolve) => (answer = resolve));
    loop.cancelled('9'); // no claim out: nothing to remember
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    loop.cancelled('2');
    answer(store.queue.splice(0));
    await jest.advanceTimersByTimeAsync(0);
    expect(buffered.map((j) => j.id)).toEqual(['1', '3']);
    await loop.stop();
  });

  it('gives back a claim that returns after stop began', async () => {
    const { store, loop, buffered, released } = setup();
    let answer: (jobs: JobAttempt[]) => void = () => undefined;
    store.override.claim = () => new Promise((resolve) => (answer = resolve));
    loop.start();
    await jest.advanceTimersByTimeAsync(0);
    const stopping = loop.stop();
    answer([attemptOf('1')]);
    await stopping;
    expect(buffered).toEqual([]);
    expect(released.map((j) => j.id)).toEqual(['1']);
  });
});
