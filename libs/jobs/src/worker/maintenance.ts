import type { LoggerService } from '@nestjs/common';
import type { RetentionOptions } from '../interfaces';
import type { WorkerStore } from '../persistence/worker-store';
import { toSafeError } from './error-record';

/**
 * The retention sweep: on its interval, deletes finished jobs past their retention, state by state, in
 * batches of `retention.batchSize` rows (stopping between batches when the worker stops). One sweep at a
 * time. (The scheduler purges its own tick records.)
 *
 * Each batch is one statement in a transaction of its own (`sql/operations.sql.ts`, `purgeSql`): it locks
 * at most a batch of finished rows, for as long as that statement runs, and then gives its connection back
 * to the worker's pool before the next batch. Claims and completions read and write only unfinished rows,
 * so they never wait for a sweep, however many millions of rows it has to delete (measured with the
 * `--history` bench, see the README's Performance section).
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
        // Each batch starts at the newest `finished_at` of the one before (see `purgeSql`).
        let after: string | null = null;
        for (let deleted = r.batchSize; deleted === r.batchSize && !this.stopped;) {
          const batch = await this.store.purgeFinished({
            state,
            olderThanMs,
            limit: r.batchSize,
            after,
          });
          deleted = batch.deleted;
          after = batch.last;
          total += deleted;
        }
      }
      // Rate windows that ended (one row per rate key; only written while rate limits are used).
      for (let deleted = r.batchSize; deleted === r.batchSize && !this.stopped;) {
        deleted = await this.store.pruneRateWindows(r.batchSize);
      }
    } catch (error) {
      this.logger.warn(`Retention sweep failed: ${toSafeError(error).message}`);
    }
    return total;
  }
}
