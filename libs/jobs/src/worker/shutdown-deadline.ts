/**
 * How long `JobWorker.stop()` may wait for the database after the grace period of running jobs
 * (`shutdownTimeoutMs`): returning held jobs, writing the last completions, stopping the claim in flight,
 * the lease keeper and LISTEN. Past it, stop returns anyway and whatever was not written is left to lease
 * rescue (at-least-once, as after a crash), so shutdown is bounded even when the database blocks (a lock
 * on `jobs.jobs`, a server that stopped answering). A fixed 5 s for now; once the pools have their own
 * statement and lock timeouts, it should be two of them (one for the statement in flight, one for the
 * write stop sends).
 */
export const SHUTDOWN_MARGIN_MS = 5_000;

/** A point in time that several waits share: each gets what is left of it. */
export class ShutdownDeadline {
  private readonly at: number;
  /** What did not finish in time. */
  readonly missed: string[] = [];

  constructor(ms: number) {
    this.at = Date.now() + ms;
  }

  /** Waits for `work` until the deadline; resolves `false` (noting `what`) if it came first. */
  async wait(work: Promise<unknown>, what: string): Promise<boolean> {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), Math.max(0, this.at - Date.now()));
    });
    try {
      const finished = await Promise.race([work.then(() => true), late]);
      if (!finished) this.missed.push(what);
      return finished;
    } finally {
      clearTimeout(timer);
    }
  }
}
