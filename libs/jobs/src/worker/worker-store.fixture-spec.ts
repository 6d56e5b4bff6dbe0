import type { JobAttempt } from '../persistence/job-attempt';
import type {
  ClaimRequest,
  Completion,
  FailedAttempt,
  PurgeBatch,
  PurgeRequest,
  StartMarks,
  WorkerRow,
  WorkerStore,
} from '../persistence/worker-store';

/** A row of the fake store. */
export interface FakeRow {
  state: 'available' | 'running' | 'completed' | 'failed' | 'cancelled';
  attempt: number;
  lockedBy: string | null;
  result?: string | null;
  error?: string;
  /** The attempt recorded as started (see `StartMarks`). */
  startedAttempt?: number;
}

/** An error as PostgreSQL reports a value it refuses (SQLSTATE class 22). */
export function dataError(message = 'unsupported Unicode escape sequence'): Error {
  return Object.assign(new Error(message), { code: '22P05' });
}

/** An error as a dropped connection reports it (no SQLSTATE). */
export function connectionError(): Error {
  return new Error('Connection terminated unexpectedly');
}

/** A job attempt for specs. */
export function attemptOf(id: string, attempt = 1): JobAttempt {
  return {
    id,
    name: 'job',
    queue: 'default',
    payload: {},
    accountId: null,
    attempt,
    maxAttempts: 3,
  };
}

/**
 * An in-memory WorkerStore for the worker's unit specs: rows with the same fencing as the SQL, every call
 * recorded, and `override` to make a method fail or hang.
 */
export class FakeWorkerStore implements WorkerStore {
  readonly rows = new Map<string, FakeRow>();
  readonly calls: Array<[method: keyof WorkerStore, ...args: unknown[]]> = [];
  /** Replaces a method's behaviour (throw, reject, or return a promise that hangs). */
  readonly override: { [K in keyof WorkerStore]?: WorkerStore[K] } = {};
  /** Completions of these ids are refused with a data error (the whole batch that holds one fails). */
  readonly unstorable = new Set<string>();
  /** Jobs `claim` hands out, in order. */
  readonly queue: JobAttempt[] = [];

  private call<K extends keyof WorkerStore>(
    method: K,
    args: Parameters<WorkerStore[K]>,
    real: () => ReturnType<WorkerStore[K]>,
  ): ReturnType<WorkerStore[K]> {
    this.calls.push([method, ...args]);
    const override = this.override[method] as
      ((...a: unknown[]) => ReturnType<WorkerStore[K]>) | undefined;
    return override ? override(...args) : real();
  }

  callsOf(method: keyof WorkerStore): unknown[][] {
    return this.calls.filter(([m]) => m === method).map(([, ...args]) => args);
  }

  /** Marks `ids` running under `workerId` (as a claim would). */
  hold(workerId: string, ...ids: string[]): void {
    for (const id of ids) this.rows.set(id, { state: 'running', attempt: 1, lockedBy: workerId });
  }

  claim(request: ClaimRequest): Promise<JobAttempt[]> {
    return this.call('claim', [request], async () => {
      const claimed = this.queue.splice(0, request.limit);
      for (const j of claimed)
        this.rows.set(j.id, { state: 'running', attempt: j.attempt, lockedBy: request.workerId });
      return claimed;
    });
  }

  complete(batch: readonly Completion[], workerId: string): Promise<number> {
    return this.call('complete', [batch, workerId], async () => {
      if (batch.some((c) => this.unstorable.has(c.id))) throw dataError();
      let changed = 0;
      for (const c of batch) {
        const row = this.fenced(c.id, workerId, c.attempt);
        if (!row) continue;
        row.state = 'completed';
        row.result = c.result;
        changed++;
      }
      return changed;
    });
  }

  fail(attempt: FailedAttempt): Promise<number> {
    return this.call('fail', [attempt], async () => {
      const row = this.fenced(attempt.id, attempt.workerId, attempt.attempt);
      if (!row) return 0;
      row.state = attempt.retryDelayMs === null ? 'failed' : 'available';
      row.error = attempt.error;
      return 1;
    });
  }

  snooze(job: { id: string; attempt: number }, workerId: string, delayMs: number): Promise<number> {
    return this.call('snooze', [job, workerId, delayMs], async () => {
      const row = this.fenced(job.id, workerId, job.attempt);
      if (row) row.state = 'available';
      return row ? 1 : 0;
    });
  }

  release(jobs: ReadonlyArray<{ id: string; attempt: number }>, workerId: string): Promise<number> {
    return this.call('release', [jobs, workerId], async () => {
      let changed = 0;
      for (const j of jobs) {
        const row = this.fenced(j.id, workerId, j.attempt);
        if (!row) continue;
        row.state = 'available';
        changed++;
      }
      return changed;
    });
  }

  markStarted(marks: StartMarks, workerId: string): Promise<number> {
    return this.call('markStarted', [marks, workerId], async () =>
      this.applyMarks(marks, workerId),
    );
  }

  extendLeases(
    ids: readonly string[],
    workerId: string,
    leaseMs: number,
    marks?: StartMarks,
  ): Promise<void> {
    return this.call('extendLeases', [ids, workerId, leaseMs, marks], async () => {
      this.applyMarks(marks, workerId);
    });
  }

  rescue(): Promise<number> {
    return this.call('rescue', [], async () => 0);
  }

  upsertWorker(worker: WorkerRow, lockTimeoutMs: number): Promise<void> {
    return this.call('upsertWorker', [worker, lockTimeoutMs], async () => undefined);
  }

  forgetSilentWorkers(silentForMs: number, lockTimeoutMs: number): Promise<void> {
    return this.call('forgetSilentWorkers', [silentForMs, lockTimeoutMs], async () => undefined);
  }

  deleteWorker(id: string, lockTimeoutMs: number): Promise<void> {
    return this.call('deleteWorker', [id, lockTimeoutMs], async () => undefined);
  }

  pruneRateWindows(limit: number): Promise<number> {
    return this.call('pruneRateWindows', [limit], async () => 0);
  }

  purgeFinished(request: PurgeRequest): Promise<PurgeBatch> {
    return this.call('purgeFinished', [request], async () => ({ deleted: 0, last: null }));
  }

  private applyMarks(marks: StartMarks | undefined, workerId: string): number {
    let changed = 0;
    marks?.ids.forEach((id, i) => {
      const row = this.fenced(id, workerId, marks.attempts[i]);
      if (!row) return;
      row.startedAttempt = row.attempt;
      changed++;
    });
    return changed;
  }

  private fenced(id: string, workerId: string, attempt: number): FakeRow | undefined {
    const row = this.rows.get(id);
    return row && row.state === 'running' && row.lockedBy === workerId && row.attempt === attempt
      ? row
      : undefined;
  }
}

/** A logger that keeps what it is told. */
export function memoryLogger() {
  const lines: string[] = [];
  const note = (level: string) => (message: unknown) =>
    void lines.push(`${level}: ${String(message)}`);
  return {
    lines,
    log: note('log'),
    error: note('error'),
    warn: note('warn'),
    debug: note('debug'),
  };
}
