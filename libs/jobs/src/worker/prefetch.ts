import { performance } from 'node:perf_hooks';

/** Largest adaptive prefetch. */
export const MAX_ADAPTIVE_PREFETCH = 1_000;
/** Length of the window over which the finish rate is measured. */
const RATE_WINDOW_MS = 100;

/**
 * How many jobs the worker claims ahead of its free slots. A fixed `worker.prefetch` is used as it is;
 * otherwise prefetch is adaptive, between `concurrency` and `MAX_ADAPTIVE_PREFETCH`, the larger of two
 * signals:
 * - about 100 ms of work at the rate jobs are finishing (smoothed over 100 ms windows);
 * - a starvation level that doubles whenever the buffer ran dry and slots went idle during a claim that
 *   got all it asked for (jobs finish faster than the worker claims them), and halves when a claim comes
 *   back short (the queue ran dry).
 * Fast jobs are thus claimed in large batches within a few claims (few round-trips and commits per job),
 * while slow jobs, which never drain the buffer, are not hoarded by one worker when others could start them.
 * Pure: time comes from `now`, so it is tested without timers.
 */
export class PrefetchPolicy {
  private finishRate = 0;
  private finishedInWindow = 0;
  private windowStart: number;
  private starvedLevel: number;

  constructor(
    private readonly concurrency: number,
    private readonly fixed: number | undefined,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.starvedLevel = concurrency;
    this.windowStart = now();
  }

  /** Counts a finished job (one call per job: the finish-rate signal). */
  finished(): void {
    this.finishedInWindow++;
  }

  /** The prefetch to claim for now. */
  size(): number {
    if (this.fixed !== undefined) return this.fixed;
    const now = this.now();
    const elapsed = now - this.windowStart;
    if (elapsed >= RATE_WINDOW_MS) {
      const instant = (this.finishedInWindow * 1_000) / elapsed;
      this.finishRate = this.finishRate === 0 ? instant : 0.5 * this.finishRate + 0.5 * instant;
      this.finishedInWindow = 0;
      this.windowStart = now;
    }
    const byRate = Math.ceil(this.finishRate / 10);
    return Math.min(MAX_ADAPTIVE_PREFETCH, Math.max(this.concurrency, byRate, this.starvedLevel));
  }

  /**
   * Updates the starvation level after a claim: `starved` when the buffer ran dry with idle slots while
   * the claim was out, `claimedAllAskedFor` when it returned as many rows as it asked for.
   */
  afterClaim(starved: boolean, claimedAllAskedFor: boolean): void {
    if (!claimedAllAskedFor)
      this.starvedLevel = Math.max(this.concurrency, Math.floor(this.starvedLevel / 2));
    else if (starved) this.starvedLevel = Math.min(MAX_ADAPTIVE_PREFETCH, this.starvedLevel * 2);
  }
}
