import type { JobAttempt } from '../persistence/job-attempt';
import type {
  ClaimConnection,
  LaneCursor,
  LimitCursor,
  WorkerStore,
} from '../persistence/worker-store';
import type { DatabaseBackoff } from './database-backoff';
import type { PausedLanes } from './paused-lanes';
import type { PrefetchPolicy } from './prefetch';

/** What the fetch loop claims for. */
export interface FetchLoopOptions {
  workerId: string;
  concurrency: number;
  pollIntervalMs: number;
  leaseMs: number;
  queues: readonly string[];
  /** `'account'`: fair claims from a round-robin cursor this loop keeps. Default: plain claims. */
  fairness?: 'account' | false;
  /** Some job has a concurrency or rate limit: claim with limits (a cursor this loop keeps). Default `false`. */
  limited?: boolean;
}

/** The parts the fetch loop reads and feeds. */
export interface FetchLoopParts {
  store: Pick<WorkerStore, 'claim'>;
  /** Where claimed jobs go. */
  buffer: { readonly length: number; push(jobs: readonly JobAttempt[]): void };
  /** Running jobs. */
  executor: { readonly size: number };
  /** Completions not written yet. */
  batcher: { readonly size: number };
  prefetch: Pick<PrefetchPolicy, 'size' | 'afterClaim'>;
  backoff: Pick<DatabaseBackoff, 'next' | 'reset'>;
  /** Gives back jobs claimed after the worker began to stop. */
  release(jobs: readonly JobAttempt[]): Promise<void>;
  /** What is paused (reloaded when stale, before room is counted); `undefined`: never anything. */
  paused?: Pick<PausedLanes, 'lists' | 'version' | 'refreshIfStale' | 'holds'>;
  /** Called with each claim before its jobs are buffered (drops stale copies held here). Default: none. */
  claimed?(jobs: readonly JobAttempt[]): void;
  /** The connection that delivered the NOTIFY of a `wake(true)`, to claim on (see `ClaimRequest.connection`). */
  notifiedConnection?(): ClaimConnection | undefined;
}

/**
 * Claims while there is room. Room is `concurrency` plus the prefetch; a claim asks for all the free room,
 * but only once at least half of it is free (or the buffer ran dry), so a busy worker claims in batches
 * rather than one row per finished job. A claim that comes back short means no more due jobs: sleep until
 * `wake` (a NOTIFY, a freed slot, a written batch, a rescue) or the poll interval. A failed claim backs off.
 *
 * A job cancelled while a claim is out may be in what it returns (the claim committed just before the
 * cancel, whose NOTIFY arrived before the claim's rows): `cancelled` notes such ids and they are dropped
 * from that claim (the rows already say `cancelled`; nothing to release). The note lasts one claim only,
 * so a job retried by hand later runs normally.
 */
export class FetchLoop {
  private running = false;
  private loop: Promise<void> | undefined;
  private wakeUp: (() => void) | undefined;
  private claiming = false;
  /** The sleep was ended by a NOTIFY: the next claim runs on the connection that delivered it. */
  private notified = false;
  private readonly cancelledWhileClaiming = new Set<string>();
  /** Where the next fair claim starts (the claim moves it); one per worker, kept across claims. */
  private readonly fair: LaneCursor | undefined;
  /** Where the next limited claim starts, while limits are configured; kept across claims. */
  private readonly limited: LimitCursor | undefined;

  constructor(
    private readonly options: FetchLoopOptions,
    private readonly parts: FetchLoopParts,
  ) {
    this.fair = options.fairness === 'account' ? { queue: '', account: '' } : undefined;
    this.limited = options.limited
      ? {
          concurrencyKey: '',
          rateKey: '',
          limitedFirst: true,
          idleUntil: 0,
        }
      : undefined;
  }

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Stops claiming; resolves once the claim in flight (if any) has returned and been given back. */
  async stop(): Promise<void> {
    this.running = false;
    this.wake();
    await this.loop;
  }

  /**
   * Ends the current sleep, if any: there may be room or work now. `notified`: woken by a NOTIFY of new
   * jobs, so the claim that follows runs on the LISTEN connection (`notifiedConnection`).
   */
  wake(notified = false): void {
    const wakeUp = this.wakeUp;
    if (notified && wakeUp) this.notified = true;
    this.wakeUp = undefined;
    wakeUp?.();
  }

  /** A job was cancelled that is neither running nor buffered here: it may be in the claim now out. */
  cancelled(id: string): void {
    if (this.claiming) this.cancelledWhileClaiming.add(id);
  }

  private async run(): Promise<void> {
    const { concurrency, pollIntervalMs } = this.options;
    const { buffer, executor, batcher, prefetch, backoff } = this.parts;
    while (this.running) {
      // Every turn, asleep or claiming (so that a pause also reaches the buffer of a full worker).
      const reload = this.parts.paused?.refreshIfStale();
      if (reload) {
        try {
          await reload;
        } catch (error) {
          await this.sleep(backoff.next('claim', error));
          continue;
        }
      }
      const room = concurrency + prefetch.size();
      // Finished jobs waiting for their completion batch are not work: they do not take room. But if
      // completions fall behind (a slow database) by more than a room's worth, claiming waits for them.
      const backlog = Math.max(0, batcher.size - room);
      const free = room - executor.size - buffer.length - backlog;
      const worthClaiming = free >= Math.ceil(room / 2) || (free > 0 && buffer.length === 0);
      if (!worthClaiming) {
        await this.sleep(pollIntervalMs);
        continue;
      }
      let claimed: JobAttempt[];
      try {
        claimed = await this.claim(free);
        backoff.reset();
        // Starved: while the claim was out, the buffer ran dry and slots went idle.
        const starved = buffer.length === 0 && executor.size < concurrency;
        prefetch.afterClaim(starved, claimed.length === free);
      } catch (error) {
        this.cancelledWhileClaiming.clear();
        await this.sleep(backoff.next('claim', error));
        continue;
      }
      const count = claimed.length;
      claimed = this.withoutCancelled(claimed);
      if (!this.running) {
        await this.parts.release(claimed);
        break;
      }
      this.parts.claimed?.(claimed);
      buffer.push(claimed);
      if (count < free) await this.sleep(pollIntervalMs);
    }
  }

  private async claim(limit: number): Promise<JobAttempt[]> {
    const { workerId, leaseMs, queues } = this.options;
    this.claiming = true;
    try {
      const { fair, limited, parts } = this;
      const paused = parts.paused;
      const version = paused?.version;
      const connection = this.notified ? parts.notifiedConnection?.() : undefined;
      this.notified = false;
      const claimed = await parts.store.claim({
        limit,
        workerId,
        leaseMs,
        queues,
        fair,
        paused: paused?.lists,
        limited,
        connection,
      });
      // Paused while the claim was out: what it took with the previous lists goes back unstarted.
      if (!paused || paused.version === version) return claimed;
      const back = claimed.filter((job) => paused.holds(job));
      if (back.length > 0) await parts.release(back);
      return back.length > 0 ? claimed.filter((job) => !paused.holds(job)) : claimed;
    } finally {
      this.claiming = false;
    }
  }

  private withoutCancelled(claimed: JobAttempt[]): JobAttempt[] {
    if (this.cancelledWhileClaiming.size === 0) return claimed;
    const cancelled = this.cancelledWhileClaiming;
    const kept = claimed.filter((job) => !cancelled.has(job.id));
    cancelled.clear();
    return kept;
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wakeUp = undefined;
        resolve();
      }, ms);
      this.wakeUp = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
}
