import type { JobAttempt } from '../persistence/job-attempt';
import { CompletionBatcher } from './completion-batcher';
import { DatabaseBackoff } from './database-backoff';
import { JobExecutor } from './job-executor';
import type { JobTransition } from './job-transition';
import { LeaseKeeper } from './lease-keeper';
import { StartMarkBook } from './start-marks';
import { attemptOf, FakeWorkerStore, memoryLogger } from './worker-store.fixture-spec';

const W = 'w1';
const settle = () => new Promise((resolve) => setImmediate(resolve));

/** An executor whose jobs finish when the test says so. */
function setup() {
  const store = new FakeWorkerStore();
  const finish = new Map<string, (t: JobTransition) => void>();
  const performed: string[] = [];
  const logger = memoryLogger();
  const executor: JobExecutor = new JobExecutor(
    {
      attempt: (job: JobAttempt) => {
        performed.push(job.id);
        return new Promise<JobTransition>((resolve) => finish.set(job.id, resolve));
      },
    },
    store,
    { add: (c) => batcher.add(c) },
    W,
    logger,
    () => undefined,
  );
  const batcher = new CompletionBatcher(store, W, new DatabaseBackoff(10, logger), logger, {
    written: () => undefined,
    running: () => true,
  });
  const leases = new LeaseKeeper(
    store,
    {
      worker: { id: W, hostname: 'h', pid: 1, queues: ['*'], concurrency: 1 },
      leaseMs: 1_000,
      heartbeatIntervalMs: 100,
      rescueIntervalMs: 100,
      heldIds: () => executor.ids(),
      rescued: () => undefined,
      marks: executor.marks,
    },
    logger,
  );
  return { store, executor, batcher, leases, finish, performed };
}

describe('start marks', () => {
  it('ride on the next heartbeat, only for the jobs still running then, and not on completions', async () => {
    const { store, executor, finish, leases } = setup();
    store.hold(W, 'a', 'b', 'c');
    for (const id of ['a', 'b', 'c']) executor.start(attemptOf(id));
    finish.get('a')!({ kind: 'complete', result: null }); // finished before the heartbeat: needs no mark
    await settle();
    await settle();
    expect(store.callsOf('complete')[0]).toHaveLength(2); // a completion batch carries no marks
    leases.heartbeat();
    await settle();
    const [[ids, , , marks]] = store.callsOf('extendLeases');
    expect(ids).toEqual(['b', 'c']);
    expect(marks).toMatchObject({ ids: ['b', 'c'], attempts: [1, 1] });
    expect(store.rows.get('b')!.startedAttempt).toBe(1);
    expect(store.rows.get('a')!.startedAttempt).toBeUndefined();
    expect(store.callsOf('markStarted')).toEqual([]); // no statement of their own
    // Taken once: the next heartbeat carries none.
    leases.heartbeat();
    await settle();
    expect(store.callsOf('extendLeases')[1][3]).toBeUndefined();
  });

  it('come back when the heartbeat that carried them fails', async () => {
    const { store, executor, leases } = setup();
    store.hold(W, 'a');
    executor.start(attemptOf('a'));
    let fail = true;
    store.override.extendLeases = async (...args) => {
      if (fail) throw new Error('Connection terminated unexpectedly');
      store.override.extendLeases = undefined;
      return store.extendLeases(...args);
    };
    leases.heartbeat();
    await settle();
    fail = false;
    leases.heartbeat();
    await settle();
    // The failed write, then the retry (the fake records the real call behind the override too).
    const calls = store.callsOf('extendLeases').slice(0, 2);
    expect(calls.map((c) => c[3])).toEqual([
      expect.objectContaining({ ids: ['a'] }),
      expect.objectContaining({ ids: ['a'] }),
    ]);
    expect(store.rows.get('a')!.startedAttempt).toBe(1);
  });

  it('are written before it performs for a job a rescue returned unstarted; a fenced-out mark means it does not run', async () => {
    const { store, executor, performed } = setup();
    store.hold(W, 'r');
    executor.start({ ...attemptOf('r'), unstartedRescues: 1 });
    expect(performed).toEqual([]); // not before its mark is written
    await settle();
    expect(store.callsOf('markStarted')).toEqual([[{ ids: ['r'], attempts: [1] }, W]]);
    expect(store.rows.get('r')!.startedAttempt).toBe(1);
    expect(performed).toEqual(['r']);
    // Cancelled meanwhile (the row is no longer this worker's): the mark changes nothing; it never runs.
    executor.start({ ...attemptOf('gone'), unstartedRescues: 2 });
    await settle();
    expect(performed).toEqual(['r']);
    expect(executor.ids()).toEqual(['r']);
  });
});

describe('LeaseKeeper.mayHaveLostLeases (when claims are checked for stale copies)', () => {
  it('is true only once no lease extension was confirmed for about a lease', async () => {
    const { store, executor, leases } = setup();
    store.hold(W, 'a');
    executor.start(attemptOf('a'));
    leases.heartbeat();
    await settle();
    expect(leases.mayHaveLostLeases()).toBe(false);
    store.override.extendLeases = async () => {
      throw new Error('Connection terminated unexpectedly');
    };
    const now = Date.now();
    const clock = jest.spyOn(Date, 'now');
    try {
      clock.mockReturnValue(now + 500);
      leases.heartbeat();
      await settle();
      expect(leases.mayHaveLostLeases()).toBe(false); // half a lease without one: still safe
      clock.mockReturnValue(now + 950); // leaseMs 1,000 minus one heartbeat interval
      expect(leases.mayHaveLostLeases()).toBe(true);
    } finally {
      clock.mockRestore();
    }
  });
});

describe('StartMarkBook', () => {
  it('holds the notes of running jobs only, however many jobs a drain starts between heartbeats', () => {
    const running = new Set<JobAttempt>();
    const book = new StartMarkBook((job) => running.has(job));
    const stillRunning: JobAttempt[] = [];
    for (let i = 0; i < 50_000; i++) {
      const job = attemptOf(String(i));
      book.note(job);
      if (i % 10_000 === 0) {
        running.add(job); // one job in 10,000 is still running at the heartbeat
        stillRunning.push(job);
      }
    }
    // Without pruning the book would hold all 50,000 attempts (and their payloads) until the heartbeat.
    expect(book.size).toBeLessThan(2_048);
    expect(book.take()?.ids).toEqual(stillRunning.map((job) => job.id));
  });
});
