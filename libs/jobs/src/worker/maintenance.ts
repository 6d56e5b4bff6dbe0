import type { LoggerService } from '@nestjs/common';
import type { RetentionOptions } from '../interfaces';
import type { WorkerStore } from '../persistence/worker-store';
import { toSafeError } from './error-record';

/** Rows deleted per statement: a sweep never holds many row locks or bloats one transaction. */
export const PURGE_BATCH = 5_000;

/**
 * The retention sweep: on its interval, deletes finished jobs past their retention, state by state, in
 * bounded batches (stopping between batches when the worker stops). One sweep at a time. (The scheduler
 * purges its own tick records.)
 */
export class Maintenance {
  private timer: NodeJS.Timeout | undefined;
  private sweeping: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly store: WorkerStore,
    private readonly retention: Required<RetentionOptions>,
    private readonly logger: LoggerService,
  ) {}

  start(): void {
    this.stopped = false;
    this.timer = setInterval(() => {
      if (this.sweeping) return; // the previous sweep is still deleting
      this.sweeping = this.sweep().then(() => {
        this.sweeping = undefined;
      });
    }, this.retention.intervalMs);
  }

  /** Stops the schedule and waits for the batch in flight, if any. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.timer);
    await this.sweeping;
  }

  /** Deletes what is past retention; resolves with how many rows went. Never rejects. */
  async sweep(): Promise<number> {
    const r = this.retention;
    const rules = [
      ['completed', r.completedMs],
      ['failed', r.failedMs],
      ['cancelled', r.cancelledMs],
    ] as const;
    let total = 0;
    try {
      for (const [state, olderThanMs] of rules) {
        for (let deleted = PURGE_BATCH; deleted === PURGE_BATCH && !this.stopped;) {
          deleted = await this.store.purgeFinished({
            states: [state],
            olderThanMs,
            limit: PURGE_BATCH,
          });
          total += deleted;
        }
      }
      // Rate windows that ended (one row per rate key; only written while rate limits are used).
      for (let deleted = PURGE_BATCH; deleted === PURGE_BATCH && !this.stopped;) {
        deleted = await this.store.pruneRateWindows(PURGE_BATCH);
      }
    } catch (error) {
      this.logger.warn(`Retention sweep failed: ${toSafeError(error).message}`);
    }
    return total;
  }
}
