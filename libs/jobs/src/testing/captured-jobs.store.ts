import { Injectable } from '@nestjs/common';
import type { JobErrorRecord } from '../interfaces';
import type { PreparedJob } from '../queue/job-queue.service';
import type { JobClass } from '../interfaces/enqueue-options.interface';
import type { CapturedJob } from './captured-job';

/** A captured job as the store keeps it: mutable, plus what `find()` reports. */
export type CapturedJobEntry = { -readonly [K in keyof CapturedJob]: CapturedJob[K] } & {
  startedAt: Date | null;
  finishedAt: Date | null;
  errors: JobErrorRecord[];
  /** Aborts `ctx.signal` while the job performs (`cancel()`). */
  controller: AbortController | undefined;
};

/**
 * The in-memory table of the testing queue: every job enqueued since the last `clear()`, in enqueue order.
 * One per testing module, shared by `TestingJobQueue` (which writes it) and `JobsTestHelper` (which reads
 * and performs it).
 */
@Injectable()
export class CapturedJobsStore {
  private entries: CapturedJobEntry[] = [];
  private lastId = 0;

  /** Records a prepared job and returns its entry. */
  add(prepared: PreparedJob, job: JobClass): CapturedJobEntry {
    const enqueuedAt = new Date();
    const scheduledAt =
      prepared.runAt ??
      (prepared.delayMs !== null ? new Date(enqueuedAt.getTime() + prepared.delayMs) : enqueuedAt);
    const entry: CapturedJobEntry = {
      id: String(++this.lastId),
      job,
      name: prepared.name,
      // The JSON text, parsed back: exactly what a worker would read from the jobs table.
      payload: JSON.parse(prepared.payloadJson) as unknown,
      accountId: prepared.accountId,
      queue: prepared.queue,
      priority: prepared.priority,
      maxAttempts: prepared.maxAttempts,
      runAt: prepared.runAt ?? undefined,
      delayMs: prepared.delayMs ?? undefined,
      uniqueKey: prepared.uniqueKey ?? undefined,
      enqueuedAt,
      scheduledAt,
      state: 'available',
      attempts: 0,
      result: undefined,
      error: undefined,
      startedAt: null,
      finishedAt: null,
      errors: [],
      controller: undefined,
    };
    this.entries.push(entry);
    return entry;
  }

  /** The unfinished job holding `uniqueKey`, as the real queue's partial unique index would find it. */
  holderOf(uniqueKey: string | null): CapturedJobEntry | undefined {
    if (uniqueKey === null) return undefined;
    return this.entries.find(
      (e) => e.uniqueKey === uniqueKey && (e.state === 'available' || e.state === 'running'),
    );
  }

  get(id: string): CapturedJobEntry | undefined {
    return this.entries.find((e) => e.id === id);
  }

  /** Every entry, oldest first. The array is a copy; its entries are live. */
  all(): CapturedJobEntry[] {
    return [...this.entries];
  }

  /** Forgets every job. Ids keep increasing, so an id from before never names a new job. */
  clear(): void {
    for (const entry of this.entries) entry.controller?.abort();
    this.entries = [];
  }
}

/** The public, frozen-in-time view of an entry (tests cannot change the store through it). */
export function snapshot<P>(entry: CapturedJobEntry): CapturedJob<P> {
  return {
    id: entry.id,
    job: entry.job as JobClass<P>,
    name: entry.name,
    payload: entry.payload as P,
    accountId: entry.accountId,
    queue: entry.queue,
    priority: entry.priority,
    maxAttempts: entry.maxAttempts,
    runAt: entry.runAt,
    delayMs: entry.delayMs,
    uniqueKey: entry.uniqueKey,
    enqueuedAt: entry.enqueuedAt,
    scheduledAt: entry.scheduledAt,
    state: entry.state,
    attempts: entry.attempts,
    result: entry.result,
    error: entry.error,
  };
}
