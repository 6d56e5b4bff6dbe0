import type { LoggerService } from '@nestjs/common';
import { ResultNotStorableError } from '../errors';
import type { JobLifecycle } from '../observability/job-lifecycle';
import { isDataError } from '../persistence/database-errors';
import type { Completion, WorkerStore } from '../persistence/worker-store';
import type { DatabaseBackoff } from './database-backoff';
import { toErrorJson, toErrorRecord, toSafeError } from './error-record';

/** What the batcher tells the worker. */
export interface BatcherHooks {
  /** A batch was written: the room its jobs took is free. */
  written(): void;
  /** True while the worker runs: only then does a failed write wait (back off) before the next try. */
  running(): boolean;
  /** Told which completions were written (events, traces, metrics). Default: none. */
  lifecycle?: JobLifecycle;
}

const NONE: readonly Completion[] = [];

/**
 * Records completions in batches: those of one turn of the event loop go out in one fenced statement (one
 * round-trip, one commit for many jobs), one batch in flight at a time, the next one gathering behind it.
 *
 * A batch that fails because of the connection or the server is kept and retried after a backoff (if the
 * lease runs out first, the job is rescued and re-run, at-least-once, and this late completion is fenced
 * out). A batch that PostgreSQL refuses for its values (a data error) is split in halves until the row
 * that cannot be written is alone, so one bad row never holds back the others; that row's job then ends
 * `failed` with a `ResultNotStorableError` (results are made storable before they get here, so this is a
 * last resort, e.g. for a value past `jsonb`'s limits).
 */
export class CompletionBatcher {
  private pending: Completion[] = [];
  private inFlight: readonly Completion[] = NONE;
  private flushing: Promise<void> | undefined;
  private closed = false;
  private wakeBackoff: (() => void) | undefined;
  /** Completions the database fenced out: the job was cancelled, or its lease expired and it was rescued. */
  fencedOut = 0;

  constructor(
    private readonly store: WorkerStore,
    private readonly workerId: string,
    private readonly backoff: DatabaseBackoff,
    private readonly logger: LoggerService,
    private readonly hooks: BatcherHooks,
  ) {}

  /** Completions waiting for their batch (not the one in flight). */
  get size(): number {
    return this.pending.length;
  }

  /** Queues a completion for the next batch. */
  add(completion: Completion): void {
    this.pending.push(completion);
    this.scheduleFlush();
  }

  /** Forgets a pending completion of job `id` (a stale copy: the job was rescued and claimed again). */
  drop(id: string): void {
    const index = this.pending.findIndex((c) => c.id === id);
    if (index >= 0) this.pending.splice(index, 1);
  }

  /** Ids of the jobs whose completion is not written yet (their leases are kept alive). */
  ids(): string[] {
    return [...this.inFlight, ...this.pending].map((c) => c.id);
  }

  /**
   * Writes what is pending once, beside the batch in flight (no backoff, no retry), and waits for both:
   * at shutdown, when the database blocks, two statements side by side take one statement's wait, not
   * two. What neither writes stays in `ids()` (the worker logs it and leaves it to lease rescue).
   */
  async close(): Promise<void> {
    this.closed = true;
    this.wakeBackoff?.();
    const last = this.pending;
    this.pending = [];
    const writing = last.length === 0 ? undefined : this.write(last);
    await Promise.all([this.flushing, writing?.catch(() => undefined)]);
  }

  private scheduleFlush(): void {
    if (this.flushing || this.closed) return;
    this.flushing = new Promise<void>((resolve) => setImmediate(resolve)).then(async () => {
      await this.flushOnce();
      this.flushing = undefined;
      if (this.pending.length > 0) this.scheduleFlush();
    });
  }

  private async flushOnce(): Promise<void> {
    if (this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    this.inFlight = batch;
    try {
      await this.write(batch);
      this.hooks.written();
    } catch (error) {
      if (this.hooks.running() && !this.closed)
        await this.sleep(this.backoff.next('complete', error));
    } finally {
      this.inFlight = NONE;
    }
  }

  /** Writes `batch`, bisecting on data errors; on any other error puts back what is unwritten and throws. */
  private async write(batch: Completion[]): Promise<void> {
    const chunks = [batch];
    for (let chunk = chunks.pop(); chunk; chunk = chunks.pop()) {
      try {
        const changed = await this.store.complete(chunk, this.workerId);
        if (this.hooks.lifecycle?.enabled) this.hooks.lifecycle.completed(chunk, changed);
        this.countFencedOut(chunk.length - changed);
      } catch (error) {
        if (!isDataError(error)) {
          this.pending.unshift(...chunk, ...chunks.reverse().flat());
          throw error;
        }
        if (chunk.length > 1) {
          const half = chunk.length >> 1;
          chunks.push(chunk.slice(half), chunk.slice(0, half)); // the first half goes first
        } else {
          await this.failUnstorable(chunk[0], error);
        }
      }
    }
  }

  /** The last resort for a completion PostgreSQL refuses: the job ends `failed`, saying why. */
  private async failUnstorable(c: Completion, refusal: unknown): Promise<void> {
    const reason = toSafeError(refusal).message;
    const error = new ResultNotStorableError(c.name, c.id, reason);
    this.logger.error(error.message);
    const record = toErrorRecord(error, c.attempt, new Date());
    try {
      const changed = await this.store.fail({
        id: c.id,
        workerId: this.workerId,
        attempt: c.attempt,
        error: toErrorJson(record),
        retryDelayMs: null,
      });
      if (this.hooks.lifecycle?.enabled) this.hooks.lifecycle.unstorable(c, record, changed);
      this.countFencedOut(1 - changed);
    } catch (failure) {
      if (!isDataError(failure)) {
        this.pending.unshift(c);
        throw failure;
      }
      this.logger.error(
        `Job "${c.name}" #${c.id}: not even its failure could be stored (${toSafeError(failure).message}); its lease will expire and it will be rescued`,
      );
    }
  }

  private countFencedOut(count: number): void {
    if (count <= 0) return;
    this.fencedOut += count;
    this.logger.warn(
      `${count} completion(s) not recorded: the job was cancelled, or its lease expired and it was rescued (it may run again)`,
    );
  }

  private sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wakeBackoff = () => {
        clearTimeout(timer);
        resolve();
      };
    }).finally(() => (this.wakeBackoff = undefined));
  }
}
