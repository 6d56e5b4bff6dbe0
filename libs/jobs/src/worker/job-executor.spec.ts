import { JobCancelledError, WorkerShutdownError } from '../errors';
import type { JobAttempt } from '../persistence/job-attempt';
import type { Completion } from '../persistence/worker-store';
import { JobExecutor } from './job-executor';
import type { JobTransition } from './job-transition';
import { attemptOf, FakeWorkerStore, memoryLogger } from './worker-store.fixture-spec';

const W = 'w1';
const error = { attempt: 1, at: 'now', name: 'Oops', message: 'bad \u0000 text' };

function setup(transition: (job: JobAttempt, signal: AbortSignal) => Promise<JobTransition>) {
  const store = new FakeWorkerStore();
  const completions: Completion[] = [];
  const freed: boolean[] = [];
  const executor = new JobExecutor(
    { attempt: transition },
    store,
    { add: (c) => void completions.push(c) },
    W,
    memoryLogger(),
    (finished) => freed.push(finished),
  );
  return { store, completions, freed, executor };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

describe('JobExecutor', () => {
  it('records each transition: a completion joins the batch, the others are written', async () => {
    const transitions: Record<string, JobTransition> = {
      c: { kind: 'complete', result: '"r"' },
      r: { kind: 'retry', error, delayMs: 250 },
      f: { kind: 'fail', error },
      s: { kind: 'snooze', delayMs: 60 },
      x: { kind: 'cancel' },
    };
    const { store, completions, freed, executor } = setup(async (job) => transitions[job.id]);
    store.hold(W, 'c', 'r', 'f', 's', 'x');
    for (const id of Object.keys(transitions)) executor.start(attemptOf(id));
    expect(executor.size).toBe(5);
    await settle();
    expect(executor.size).toBe(0);
    expect(freed).toEqual([true, true, true, true, true]);
    expect(completions).toEqual([{ id: 'c', name: 'job', attempt: 1, result: '"r"' }]);
    expect(store.rows.get('r')!.state).toBe('available');
    expect(store.callsOf('fail')[0][0]).toMatchObject({ id: 'r', retryDelayMs: 250 });
    expect(store.rows.get('f')!.state).toBe('failed');
    // The stored record is storable JSON: the NUL became U+FFFD.
    expect(JSON.parse(store.rows.get('f')!.error!).message).toBe('bad \uFFFD text');
    expect(store.callsOf('snooze')).toEqual([[attemptOf('s'), W, 60]]);
    expect(store.rows.get('x')!.state).toBe('running'); // cancel writes nothing
  });

  it('starts the next attempt of a job only once its retry was written here', async () => {
    const order: string[] = [];
    const { store, executor } = setup(async (job) => {
      order.push(`attempt ${job.attempt}`);
      return { kind: 'retry', error, delayMs: 0 };
    });
    store.hold(W, 'r');
    let land: () => void = () => undefined;
    const fail = store.fail.bind(store);
    store.fail = (attempt) => {
      order.push(`writing ${attempt.attempt}`);
      return new Promise((resolve) => (land = () => resolve(fail(attempt)))).then((n) => {
        order.push(`written ${attempt.attempt}`);
        return n as number;
      });
    };
    executor.start(attemptOf('r'));
    await settle();
    // Claimed again (the row was runnable) before the retry's answer was read.
    executor.start({ ...attemptOf('r'), attempt: 2 });
    await settle();
    expect(order).toEqual(['attempt 1', 'writing 1']);
    land();
    await settle();
    expect(order.slice(0, 4)).toEqual(['attempt 1', 'writing 1', 'written 1', 'attempt 2']);
  });

  it('aborts a cancelled job, frees its slot at once and drops its late outcome', async () => {
    let seen: AbortSignal | undefined;
    let finish: () => void = () => undefined;
    const { store, completions, freed, executor } = setup(
      (_, signal) =>
        new Promise((resolve) => {
          seen = signal;
          finish = () => resolve({ kind: 'complete', result: null });
        }),
    );
    executor.start(attemptOf('1'));
    expect(executor.cancel('1')).toBe(true);
    expect(executor.cancel('1')).toBe(false);
    expect(seen!.reason).toBeInstanceOf(JobCancelledError);
    expect(executor.size).toBe(0);
    expect(freed).toEqual([false]);
    finish();
    await settle();
    expect(completions).toEqual([]);
    expect(store.calls).toEqual([]);
  });

  it('on drain, waits out the grace period, then aborts what still runs and hands it back', async () => {
    const signals: AbortSignal[] = [];
    const { executor, completions } = setup((job, signal) => {
      signals.push(signal);
      if (job.id === 'quick') return Promise.resolve({ kind: 'complete', result: null });
      return new Promise(() => undefined);
    });
    executor.start(attemptOf('quick'));
    executor.start(attemptOf('stuck'));
    const left = await executor.drain(20);
    expect(left.map((j) => j.id)).toEqual(['stuck']);
    expect(signals[1].reason).toBeInstanceOf(WorkerShutdownError);
    expect(completions.map((c) => c.id)).toEqual(['quick']);
    expect(executor.size).toBe(0);
  });
});
