import { Inject, Injectable } from '@nestjs/common';
import { JobRegistry } from '../discovery/job.registry';
import { JobCancelledError, JobsError } from '../errors';
import type { JobClass, JobRecord, PausedEntry, QueueStateCount } from '../interfaces';
import { NewJob, reportedState, toJobRecord } from '../persistence/job-row';
import type {
  AccountFilter,
  InsertedJob,
  InsertOptions,
  JobStore,
  TickResult,
} from '../persistence/job-store';
import type { PauseStore } from '../persistence/pause-store';
import { CapturedJobRunner } from './captured-job-runner';
import type { InMemoryJob } from './in-memory-job';
import { JOBS_TESTING_MODE, JobsTestingMode } from './jobs-testing.options';

/** The error of an operation only the real, PostgreSQL-backed queue has. */
function needsRealModule(operation: string): JobsError {
  return new JobsError(
    `${operation} needs the real JobsModule (PostgreSQL): JobsTestingModule keeps jobs in memory and ` +
      `does not implement it. Test this code against JobsModule.forRoot() with a database instead.`,
  );
}

/**
 * The `JobStore` of `JobsTestingModule`: every job enqueued since the last `clear()`, in enqueue order,
 * as the rows PostgreSQL would hold (ids `'1'`, `'2'`, …; a `uniqueKey` held by an unfinished job is not
 * written again). The app's clock stands in for the database's. In `inline` mode an insert also performs
 * its new jobs at once, in order, and then rejects with the first one's error, if any.
 *
 * Not supported (they reject with a `JobsError`): `oncePerTick`, `listFailed`, `retry`, `discard`,
 * `purge`, and `JobFlowControl`'s pause, resume and list (nothing here claims jobs, so a pause could not
 * mean anything; `countByState` reports every queue as not paused). Operations are tenant-scoped like the
 * real ones (another account's job is "not found"). The `manager` option (and an ambient
 * `@nestjs-cls/transactional` transaction) is ignored: a
 * job is recorded at once and never rolled back with the caller's transaction.
 */
@Injectable()
export class InMemoryJobStore implements JobStore, PauseStore {
  private entries: InMemoryJob[] = [];
  private lastId = 0;

  constructor(
    private readonly registry: JobRegistry,
    private readonly performer: CapturedJobRunner,
    @Inject(JOBS_TESTING_MODE) private readonly mode: JobsTestingMode,
  ) {}

  async insert(jobs: readonly NewJob[], options: InsertOptions = {}): Promise<InsertedJob[]> {
    await options.validation?.();
    const added: InMemoryJob[] = [];
    // One by one, like the insert's `on conflict do nothing`: a key taken earlier in the batch is held.
    for (const job of jobs) if (!this.holderOf(job.uniqueKey)) added.push(this.add(job));
    if (this.mode === 'inline') await this.performInline(added);
    return added.map(({ row }) => ({ id: row.id, unique_key: row.unique_key }));
  }

  async findByUniqueKeys(keys: string[]): Promise<InsertedJob[]> {
    return keys
      .map((key) => this.holderOf(key))
      .filter((entry): entry is InMemoryJob => entry !== undefined)
      .map(({ row }) => ({ id: row.id, unique_key: row.unique_key }));
  }

  async find(id: string, account: AccountFilter): Promise<JobRecord | null> {
    const row = this.inScope(id, account)?.row;
    return row ? toJobRecord({ ...row, errors: [...row.errors] }, new Date()) : null;
  }

  /** Counts by queue and state of the jobs in `account`, sorted like the real query. */
  async countByState(account: AccountFilter): Promise<QueueStateCount[]> {
    const now = new Date();
    const counts = new Map<string, QueueStateCount>();
    for (const { row } of this.entries) {
      if (account !== null && row.account_id !== account) continue;
      const state = reportedState(row, now);
      const key = `${row.queue}\u0000${state}`;
      const count = counts.get(key) ?? { queue: row.queue, state, count: 0, paused: false };
      count.count += 1;
      counts.set(key, count);
    }
    return [...counts.values()].sort(
      (a, b) => compare(a.queue, b.queue) || compare(a.state, b.state),
    );
  }

  /** An available job will not be performed; a running one has its `ctx.signal` aborted, its outcome dropped. */
  async cancel(id: string, account: AccountFilter): Promise<boolean> {
    const entry = this.inScope(id, account);
    if (!entry || (entry.row.state !== 'available' && entry.row.state !== 'running')) return false;
    entry.row.state = 'cancelled';
    entry.row.finished_at = new Date();
    entry.controller?.abort(new JobCancelledError(id));
    return true;
  }

  listFailed(): Promise<JobRecord[]> {
    return Promise.reject(needsRealModule('listFailed'));
  }

  retry(): Promise<boolean> {
    return Promise.reject(needsRealModule('retry'));
  }

  discard(): Promise<boolean> {
    return Promise.reject(needsRealModule('discard'));
  }

  purge(): Promise<number> {
    return Promise.reject(needsRealModule('purge'));
  }

  onceForTick(): Promise<TickResult> {
    return Promise.reject(needsRealModule('oncePerTick'));
  }

  pause(kind: 'queue' | 'account'): Promise<boolean> {
    return Promise.reject(needsRealModule(kind === 'queue' ? 'pauseQueue' : 'pauseAccount'));
  }

  resume(kind: 'queue' | 'account'): Promise<boolean> {
    return Promise.reject(needsRealModule(kind === 'queue' ? 'resumeQueue' : 'resumeAccount'));
  }

  listPaused(): Promise<PausedEntry[]> {
    return Promise.reject(needsRealModule('listPaused'));
  }

  get(id: string): InMemoryJob | undefined {
    return this.entries.find((e) => e.row.id === id);
  }

  /** Every job, oldest first. The array is a copy; its jobs are live. */
  all(): InMemoryJob[] {
    return [...this.entries];
  }

  /** Forgets every job. Ids keep increasing, so an id from before never names a new job. */
  clear(): void {
    for (const entry of this.entries) entry.controller?.abort();
    this.entries = [];
  }

  /** The job `id` if `account` may see it (`null`: every account and the global jobs). */
  private inScope(id: string, account: AccountFilter): InMemoryJob | undefined {
    const entry = this.get(id);
    return entry && (account === null || entry.row.account_id === account) ? entry : undefined;
  }

  /** The unfinished job holding `uniqueKey`, as the real queue's partial unique index would find it. */
  private holderOf(uniqueKey: string | null): InMemoryJob | undefined {
    if (uniqueKey === null) return undefined;
    return this.entries.find(
      ({ row }) =>
        row.unique_key === uniqueKey && (row.state === 'available' || row.state === 'running'),
    );
  }

  private add(job: NewJob): InMemoryJob {
    const now = new Date();
    const runAt = job.runAt ?? (job.delayMs !== null ? new Date(now.getTime() + job.delayMs) : now);
    const entry: InMemoryJob = {
      row: {
        id: String(++this.lastId),
        name: job.name,
        queue: job.queue,
        priority: job.priority,
        state: 'available',
        // The JSON text, parsed back: exactly what a worker would read from the jobs table.
        payload: JSON.parse(job.payloadJson) as unknown,
        payload_rules: job.payloadRules ?? null,
        account_id: job.accountId,
        attempts: 0,
        max_attempts: job.maxAttempts,
        run_at: runAt,
        locked_by: null,
        locked_until: null,
        last_error: null,
        errors: [],
        result: undefined,
        unique_key: job.uniqueKey,
        parent_id: job.parentId ?? null,
        created_at: now,
        started_at: null,
        finished_at: null,
      },
      job: this.registry.forName(job.name)?.type as JobClass,
      runAt: job.runAt,
      delayMs: job.delayMs,
      error: undefined,
      controller: undefined,
    };
    this.entries.push(entry);
    return entry;
  }

  /**
   * Each job runs in a fresh CLS context in its captured account (so jobs it enqueues inherit that
   * account, and are themselves performed inline, depth first).
   */
  private async performInline(entries: InMemoryJob[]): Promise<void> {
    let firstError: Error | undefined;
    for (const entry of entries) {
      const outcome = await this.performer.perform(entry);
      if (outcome.kind === 'failed') firstError ??= outcome.error;
    }
    if (firstError) throw firstError;
  }
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
