import type { JobAttempt } from '../persistence/job-attempt';
import { LocalBuffer, STARTS_PER_TURN } from './local-buffer';
import { attemptOf } from './worker-store.fixture-spec';

const jobs = (n: number, from = 0) =>
  Array.from({ length: n }, (_, i) => attemptOf(String(from + i)));

describe('LocalBuffer', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  /** Slots whose jobs run until `finish(id)`. */
  function slots(concurrency: number) {
    const running = new Set<string>();
    const started: string[] = [];
    return {
      running,
      started,
      slots: {
        concurrency,
        active: () => running.size,
        start: (job: JobAttempt) => (running.add(job.id), started.push(job.id)),
      },
    };
  }

  it('starts up to concurrency, in claim order, and the next one when a slot frees', () => {
    const s = slots(2);
    const buffer = new LocalBuffer(s.slots);
    buffer.push(jobs(5));
    expect(s.started).toEqual(['0', '1']);
    expect(buffer.length).toBe(3);
    expect(buffer.ids()).toEqual(['2', '3', '4']);
    s.running.delete('0');
    buffer.dispatch();
    expect(s.started).toEqual(['0', '1', '2']);
  });

  it(`starts at most ${STARTS_PER_TURN} jobs per turn of the event loop, the rest in later turns`, () => {
    const started: string[] = [];
    // Jobs that finish at once: without the limit one turn would start all of them.
    const buffer = new LocalBuffer({
      concurrency: 10,
      active: () => 0,
      start: (j) => started.push(j.id),
    });
    buffer.push(jobs(250));
    expect(started).toHaveLength(STARTS_PER_TURN);
    jest.runOnlyPendingTimers(); // the next turn (setImmediate)
    expect(started).toHaveLength(2 * STARTS_PER_TURN);
    jest.runOnlyPendingTimers();
    expect(started).toHaveLength(250);
    expect(buffer.length).toBe(0);
  });

  it('removes a buffered job so it never starts, and says whether it held it', () => {
    const s = slots(1);
    const buffer = new LocalBuffer(s.slots);
    buffer.push(jobs(3));
    expect(buffer.remove('1')).toBe(true);
    expect(buffer.remove('1')).toBe(false);
    expect(buffer.remove('0')).toBe(false); // running, not buffered
    s.running.clear();
    buffer.dispatch();
    s.running.clear();
    buffer.dispatch();
    expect(s.started).toEqual(['0', '2']);
  });

  it('starts nothing once closed, and hands back what it held', () => {
    const s = slots(1);
    const buffer = new LocalBuffer(s.slots);
    buffer.push(jobs(3));
    buffer.close();
    s.running.clear();
    buffer.dispatch();
    buffer.push(jobs(1, 3));
    expect(s.started).toEqual(['0']);
    expect(buffer.takeAll().map((j) => j.id)).toEqual(['1', '2', '3']);
    expect(buffer.length).toBe(0);
  });
});
