import type { LoggerService } from '@nestjs/common';
import type { WorkerRow, WorkerStore } from '../persistence/worker-store';
import { toSafeError } from './error-record';
import type { StartMarkBook } from './start-marks';

/** Longest wait for a lock on the workers table (bounded further by half the heartbeat interval). */
export const WORKER_ROW_LOCK_TIMEOUT_MS = 1_000;
/** A worker silent for this many leases is forgotten (its row deleted). */
const FORGET_AFTER_LEASES = 10;

/** What the lease keeper needs to know. */
export interface LeaseKeeperOptions {
  /** This worker's row (its `id` is the `locked_by` of its jobs). */
  worker: WorkerRow;
  leaseMs: number;
  heartbeatIntervalMs: number;
  rescueIntervalMs: number;
  /** Ids of every job this worker holds: buffered, running, or waiting for its completion to be written. */
  heldIds(): string[];
  /** `count` jobs were rescued: there may be work to claim. */
  rescued(count: number): void;
  /** Start marks not written yet, written with each lease extension. Default: none. */
  marks?: Pick<StartMarkBook, 'take' | 'restore'>;
}

/**
 * Keeps this worker's claims alive and cleans up after dead workers:
 * - every heartbeat interval, extends the leases of the jobs it holds, and, independently, refreshes its
 *   row in the workers table: two statements, neither awaiting the other, each with at most one in
 *   flight. Only the lease extension matters for correctness, so nothing may hold it back: the row
 *   refresh (and anything else touching the workers table) waits at most `WORKER_ROW_LOCK_TIMEOUT_MS`
 *   for a lock, and a lock held on that table for longer than a lease costs nothing but a warning; the
 *   lease extension also writes the start marks of the jobs started since the last one;
 * - every rescue interval, returns jobs whose lease expired (their worker died) and forgets workers
 *   silent for ten leases.
 */
export class LeaseKeeper {
  private readonly lockTimeoutMs: number;
  private timers: NodeJS.Timeout[] = [];
  /** When the last lease extension that the database confirmed was sent (or nothing was held). */
  private extendedAt = Date.now();
  /** Statements in flight, by kind: a kind still running when its timer fires again is skipped. */
  private readonly inFlight = new Map<string, Promise<void>>();

  constructor(
    private readonly store: WorkerStore,
    private readonly options: LeaseKeeperOptions,
    private readonly logger: LoggerService,
  ) {
    this.lockTimeoutMs = Math.max(
      1,
      Math.min(WORKER_ROW_LOCK_TIMEOUT_MS, Math.floor(options.heartbeatIntervalMs / 2)),
    );
  }

  /** Records the worker (rejects if the database refuses), then starts heartbeats and rescues. */
  async start(): Promise<void> {
    const o = this.options;
    await this.store.upsertWorker(o.worker, this.lockTimeoutMs);
    this.timers = [
      setInterval(() => this.heartbeat(), o.heartbeatIntervalMs),
      setInterval(() => this.rescue(), o.rescueIntervalMs),
    ];
    this.rescue();
  }

  /** Stops the timers, waits for the statements in flight, and removes the worker's row. */
  async stop(): Promise<void> {
    for (const timer of this.timers) clearInterval(timer);
    this.timers = [];
    await Promise.all(this.inFlight.values());
    try {
      await this.store.deleteWorker(this.options.worker.id, this.lockTimeoutMs);
    } catch (error) {
      this.logger.warn(`Could not remove worker row: ${toSafeError(error).message}`);
    }
  }

  /** Extends leases and refreshes the worker row, independently of each other. */
  heartbeat(): void {
    const o = this.options;
    const ids = o.heldIds();
    const sentAt = Date.now();
    if (ids.length === 0) this.extendedAt = sentAt;
    else
      this.once('extend leases', async () => {
        const marks = o.marks?.take();
        try {
          await this.store.extendLeases(ids, o.worker.id, o.leaseMs, marks);
          this.extendedAt = sentAt;
        } catch (error) {
          o.marks?.restore(marks);
          throw error;
        }
      });
    this.once('refresh the worker row', () =>
      this.store.upsertWorker(o.worker, this.lockTimeoutMs),
    );
  }

  /**
   * True when leases of this worker may have run out: no extension was confirmed for about a lease (the
   * database was down or blocked). A rescuer may then have returned jobs this worker still holds, and
   * this worker may claim them again (a rescue that gives an unstarted job its attempt back makes the
   * new claim's attempt number the same as the old one's, so the fence cannot tell them apart): the
   * worker drops its stale copies of what it claims (see `JobWorker`).
   */
  mayHaveLostLeases(): boolean {
    return Date.now() - this.extendedAt >= this.options.leaseMs - this.options.heartbeatIntervalMs;
  }

  /** Rescues expired leases and forgets long-silent workers, independently of each other. */
  rescue(): void {
    this.once('rescue expired leases', async () => {
      const rescued = await this.store.rescue();
      if (rescued > 0) {
        this.logger.warn(`Rescued ${rescued} job(s) whose worker stopped heartbeating`);
        this.options.rescued(rescued);
      }
    });
    this.once('forget silent workers', () =>
      this.store.forgetSilentWorkers(
        FORGET_AFTER_LEASES * this.options.leaseMs,
        this.lockTimeoutMs,
      ),
    );
  }

  /** Runs `task` unless the previous one of its kind is still in flight; a failure is logged. */
  private once(kind: string, task: () => Promise<void>): void {
    if (this.inFlight.has(kind)) return;
    let started: Promise<void>;
    try {
      started = task();
    } catch (error) {
      started = Promise.reject(error);
    }
    const running = started
      .catch((error: unknown) =>
        this.logger.warn(`Could not ${kind}: ${toSafeError(error).message}`),
      )
      .finally(() => this.inFlight.delete(kind));
    this.inFlight.set(kind, running);
  }
}
