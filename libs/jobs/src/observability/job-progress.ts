import type { LoggerService } from '@nestjs/common';
import { InvalidArgumentError, toError } from '../errors';
import type { JobAttempt } from '../persistence/job-attempt';
import type { ObservabilityRepository } from '../persistence/observability.repository';
import { isJobId, toStorableJson } from '../values';
import type { JobEventDispatcher } from './job-event.dispatcher';

/** Largest progress value, in bytes of JSON: progress is a number or a few counters, not a result. */
export const MAX_PROGRESS_BYTES = 2_048;

/**
 * A progress value as the JSON text to store; throws `InvalidArgumentError` (naming the job) for anything
 * but a finite number or a plain JSON object that jsonb stores as it is, within `MAX_PROGRESS_BYTES`.
 */
export function checkProgress(job: { id: string; name: string }, value: unknown): string {
  const fail = (problem: string): never => {
    throw new InvalidArgumentError(
      `ctx.progress of job "${job.name}" #${job.id}`,
      'value',
      problem,
    );
  };
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(`must be a finite number, got ${value}.`);
    return String(value);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    fail(
      'must be a number or a plain JSON object, e.g. ctx.progress({ done: 1_000, total: 5_000 }).',
    );
  const stored = toStorableJson(value, {
    mode: 'strict',
    maxBytes: MAX_PROGRESS_BYTES,
    limitName: 'MAX_PROGRESS_BYTES',
  });
  return stored.json ?? fail(`${stored.problem} (at ${stored.path}).`);
}

/** One running attempt's progress, from its first `ctx.progress` call until its outcome. */
interface Reported {
  job: JobAttempt;
  value: unknown;
  json: string;
  /** A value not written yet. */
  dirty: boolean;
  lastWriteAt: number;
  timer: NodeJS.Timeout | undefined;
  writing: Promise<void> | undefined;
}

/**
 * `ctx.progress(value)`: checks the value (a number or a small JSON object, strictly storable, at most
 * `MAX_PROGRESS_BYTES`), and writes it at most once per `intervalMs` per job (the last value wins; the
 * first is written at once). Before the attempt's outcome is written, the worker `flush`es the value still
 * pending, so `find()` shows the final progress of a finished job. Each write is fenced like the
 * attempt's other writes (id, worker, attempt): a write that changed nothing (the job finished, or its
 * lease expired) forgets the job. A written value is emitted as a `progress` event.
 *
 * Costs nothing for jobs that never report: its map stays empty and `flush` returns at its first line.
 */
export class JobProgress {
  private readonly reported = new Map<string, Reported>();
  /** The worker whose attempts report (their `locked_by`); set when the worker starts. */
  workerId: string | undefined;

  constructor(
    private readonly repository: ObservabilityRepository,
    private readonly events: JobEventDispatcher,
    private readonly intervalMs: number,
    private readonly logger: LoggerService,
  ) {}

  /** What `ctx.progress(value)` does for `job`; throws `InvalidArgumentError` for a value it refuses. */
  report(job: JobAttempt, value: unknown): void {
    const json = checkProgress(job, value);
    // Only attempts of this worker's claimed rows are written (performNow and test runs have no row).
    if (this.workerId === undefined || !isJobId(job.id)) return;
    let r = this.reported.get(job.id);
    if (!r || r.job.attempt !== job.attempt) {
      if (r) clearTimeout(r.timer);
      r = { job, value, json, dirty: true, lastWriteAt: 0, timer: undefined, writing: undefined };
      this.reported.set(job.id, r);
    }
    r.value = value;
    r.json = json;
    r.dirty = true;
    this.schedule(r);
  }

  /**
   * The attempt ended: writes its pending value (if any) and forgets it. Resolves when that is written;
   * `undefined` when nothing is pending (no promise for jobs that never reported).
   */
  flush(job: { id: string }): Promise<void> | undefined {
    if (this.reported.size === 0) return undefined;
    const r = this.reported.get(job.id);
    if (!r) return undefined;
    this.reported.delete(job.id);
    clearTimeout(r.timer);
    r.timer = undefined;
    if (!r.dirty) return r.writing;
    return (r.writing ?? Promise.resolve()).then(() => this.write(r));
  }

  /** Shutdown: stops the timers and waits for the writes in flight. */
  async close(): Promise<void> {
    const all = [...this.reported.values()];
    this.reported.clear();
    for (const r of all) clearTimeout(r.timer);
    await Promise.all(all.map((r) => r.writing));
  }

  private schedule(r: Reported): void {
    if (r.timer || r.writing) return; // the write in flight reschedules when it ends
    const wait = r.lastWriteAt + this.intervalMs - Date.now();
    if (wait <= 0) {
      void this.write(r);
      return;
    }
    r.timer = setTimeout(() => {
      r.timer = undefined;
      void this.write(r);
    }, wait);
    r.timer.unref();
  }

  private write(r: Reported): Promise<void> {
    const workerId = this.workerId;
    if (!r.dirty || workerId === undefined) return Promise.resolve();
    r.dirty = false;
    r.lastWriteAt = Date.now();
    const { job, value, json } = r;
    const writing = this.repository.writeProgress(job, workerId, json).then(
      (changed) => {
        if (changed === 0) this.forget(r);
        else if (this.events.listens('progress'))
          this.events.emit({
            type: 'progress',
            id: job.id,
            name: job.name,
            queue: job.queue,
            accountId: job.accountId,
            attempt: job.attempt,
            maxAttempts: job.maxAttempts,
            progress: value,
          });
      },
      (error: unknown) =>
        this.logger.warn(
          `Could not record the progress of job ${job.name} #${job.id}: ${toError(error).message}`,
        ),
    );
    r.writing = writing.finally(() => {
      r.writing = undefined;
      if (r.dirty && this.reported.get(job.id) === r) this.schedule(r);
    });
    return r.writing;
  }

  private forget(r: Reported): void {
    if (this.reported.get(r.job.id) === r) this.reported.delete(r.job.id);
    clearTimeout(r.timer);
    r.dirty = false;
  }
}
