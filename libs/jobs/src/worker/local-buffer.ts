import type { JobAttempt } from '../persistence/job-attempt';

/** Jobs started in one turn of the event loop at most (see `LocalBuffer.dispatch`). */
export const STARTS_PER_TURN = 100;

/** The slots the buffer dispatches into. */
export interface Slots {
  /** Jobs that may run at once. */
  readonly concurrency: number;
  /** Jobs running now. */
  active(): number;
  /** Starts one job (synchronously takes a slot). */
  start(job: JobAttempt): void;
}

/**
 * The jobs this worker claimed but has not started, in claim order. A small state machine:
 * - open: `push` adds claimed jobs and dispatches; every freed slot (`dispatch`) starts the next one;
 * - closed (`close`, on shutdown): nothing starts any more; `takeAll` hands the rest back for release.
 * `remove` takes out a job that was cancelled while buffered, so it never starts (its row already says
 * `cancelled`: there is nothing to release).
 *
 * Dispatch yields: jobs that finish without real I/O finish in microtasks, and each finish starts the next,
 * so a buffer of them would run to the end in one turn of the event loop, and nothing else (the next
 * claim, completion flushes, notifications, the app's own requests) could go out until it ends. After
 * `STARTS_PER_TURN` starts in one turn the rest waits for the next turn (`setImmediate`).
 */
export class LocalBuffer {
  private readonly jobs: JobAttempt[] = [];
  private open = true;
  private startsThisTurn = 0;

  constructor(private readonly slots: Slots) {}

  /** Jobs waiting for a slot. */
  get length(): number {
    return this.jobs.length;
  }

  /** Adds claimed jobs (in claim order) and starts what fits. */
  push(jobs: readonly JobAttempt[]): void {
    for (const job of jobs) this.jobs.push(job);
    this.dispatch();
  }

  /** Starts buffered jobs while slots are free, at most `STARTS_PER_TURN` in this turn. */
  dispatch(): void {
    const slots = this.slots;
    while (this.open && slots.active() < slots.concurrency && this.jobs.length > 0) {
      if (this.startsThisTurn === 0) setImmediate(this.nextTurn);
      else if (this.startsThisTurn >= STARTS_PER_TURN) return; // nextTurn dispatches the rest
      this.startsThisTurn++;
      slots.start(this.jobs.shift() as JobAttempt);
    }
  }

  /** Takes out a buffered job (cancelled before it started); `false` when it is not buffered. */
  remove(id: string): boolean {
    const index = this.jobs.findIndex((j) => j.id === id);
    if (index < 0) return false;
    this.jobs.splice(index, 1);
    return true;
  }

  /** Takes out the buffered jobs that match (paused since they were claimed), in order. */
  takeWhere(matches: (job: JobAttempt) => boolean): JobAttempt[] {
    const taken: JobAttempt[] = [];
    let kept = 0;
    for (const job of this.jobs) {
      if (matches(job)) taken.push(job);
      else this.jobs[kept++] = job;
    }
    this.jobs.length = kept;
    return taken;
  }

  /** Ids of the buffered jobs (their leases are kept alive too). */
  ids(): string[] {
    return this.jobs.map((j) => j.id);
  }

  /** Stops starting jobs, for good. */
  close(): void {
    this.open = false;
  }

  /** Empties the buffer and returns what it held. */
  takeAll(): JobAttempt[] {
    return this.jobs.splice(0);
  }

  private readonly nextTurn = (): void => {
    this.startsThisTurn = 0;
    this.dispatch();
  };
}
