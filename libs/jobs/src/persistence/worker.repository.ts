import { Inject, Injectable } from '@nestjs/common';
import type { QueryResultRow } from 'pg';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import type { JobAttempt } from './job-attempt';
import { JobsDatabase } from './jobs-database';
import { claimSql } from './sql/claim.sql';
import { fairClaimSql } from './sql/fair-claim.sql';
import { completeSql, failSql, releaseSql, snoozeSql } from './sql/finish.sql';
import {
  deleteWorkerSql,
  forgetWorkersSql,
  heartbeatSql,
  LOCAL_LOCK_TIMEOUT_SQL,
  markStartedSql,
  rescueSql,
  upsertWorkerSql,
} from './sql/lease.sql';
import { purgeSql } from './sql/operations.sql';
import type {
  ClaimConnection,
  ClaimRequest,
  Completion,
  FailedAttempt,
  LaneCursor,
  StartMarks,
  WorkerRow,
  WorkerStore,
} from './worker-store';

/** The worker's hot-path statements, each prepared under its own name (see `run`). */
type Statement =
  | 'claim'
  | 'claimQueues'
  | 'fairClaim'
  | 'fairClaimQueues'
  | 'claimPaused'
  | 'claimQueuesPaused'
  | 'fairClaimPaused'
  | 'fairClaimQueuesPaused'
  | 'complete'
  | 'fail'
  | 'snooze'
  | 'release'
  | 'heartbeat'
  | 'markStarted'
  | 'rescue'
  | 'purge';

type IdRow = { id: string };
/** A fair claim's row: the first one also names the last lane visited, `[queue, account]`. */
type FairClaimRow = JobAttempt & QueryResultRow & { fairCursor: [string, string] | null };

const NO_MARKS: StartMarks = Object.freeze({ ids: [], attempts: [] }) as StartMarks;

/**
 * The PostgreSQL `WorkerStore`: owns the text of every statement the worker runs and binds its parameters.
 *
 * Job statements run on the worker's own pool (`worker: true`, see JobsDatabase) as named prepared
 * statements: parsed once per connection and planned generically, so a batch is always found by its ids.
 * Statements on the workers table run on the app's pool in a short transaction under a `lock_timeout`:
 * whoever locks that table (a migration, an admin's `lock table`) can neither starve the worker's pool of
 * connections nor hold back the job statements, lease extension first of all.
 */
@Injectable()
export class WorkerRepository implements WorkerStore {
  private readonly sql: Record<Statement, string>;
  private readonly schema: string;

  constructor(
    private readonly db: JobsDatabase,
    @Inject(RESOLVED_JOBS_OPTIONS) options: ResolvedJobsOptions,
  ) {
    const schema = (this.schema = options.schema);
    this.sql = {
      claim: claimSql(schema, false),
      claimQueues: claimSql(schema, true),
      fairClaim: fairClaimSql(schema, false),
      fairClaimQueues: fairClaimSql(schema, true),
      // The same four with the paused lists as two more parameters, run only while something is paused.
      claimPaused: claimSql(schema, false, true),
      claimQueuesPaused: claimSql(schema, true, true),
      fairClaimPaused: fairClaimSql(schema, false, true),
      fairClaimQueuesPaused: fairClaimSql(schema, true, true),
      complete: completeSql(schema),
      fail: failSql(schema),
      snooze: snoozeSql(schema),
      release: releaseSql(schema),
      heartbeat: heartbeatSql(schema),
      markStarted: markStartedSql(schema),
      rescue: rescueSql(schema),
      purge: `${purgeSql(schema)} returning j.id`,
    };
  }

  /**
   * `$1` limit, `$2` worker id, `$3` lease in ms, `$4` queues (only when some queues are served); a fair
   * claim adds the cursor's queue and account (see `fairClaimSql`) and moves the cursor; while something
   * is paused, the `…Paused` statement adds the paused queues and accounts last. Every claim returns
   * `unstartedRescues` (how often a rescue gave the job back unstarted), so no second statement is needed.
   */
  claim(request: ClaimRequest): Promise<JobAttempt[]> {
    const { limit, workerId, leaseMs, queues, fair, paused, connection } = request;
    const all = !queues || queues.includes('*');
    const values: unknown[] = all ? [limit, workerId, leaseMs] : [limit, workerId, leaseMs, queues];
    if (fair) {
      values.push(fair.queue, fair.account);
      if (paused) values.push(paused.queues, paused.accounts);
      const statement = all ? 'fairClaim' : 'fairClaimQueues';
      return this.fairClaim(paused ? `${statement}Paused` : statement, fair, values, connection);
    }
    if (paused) values.push(paused.queues, paused.accounts);
    const statement = all ? 'claim' : 'claimQueues';
    // The rows need no mapping: the statement names its columns after JobAttempt's fields.
    return this.run<JobAttempt & QueryResultRow>(
      paused ? `${statement}Paused` : statement,
      values,
      connection,
    );
  }

  /** A fair claim; its first row names the lane to move the cursor to (left on that row: cheaper). */
  private async fairClaim(
    statement: Statement,
    cursor: LaneCursor,
    values: unknown[],
    connection: ClaimConnection | undefined,
  ): Promise<JobAttempt[]> {
    const rows = await this.run<FairClaimRow>(statement, values, connection);
    const lane = rows.length > 0 ? rows[0].fairCursor : null;
    if (lane) {
      cursor.queue = lane[0];
      cursor.account = lane[1];
    }
    return rows;
  }

  /**
   * `$1` ids, `$2` attempts, `$3` results (JSON text or null; the whole array NULL when every result is),
   * all in the same order; `$4` worker id. Ids (digits: they come from `id::text`) and attempts are sent
   * as array literals built here, which the driver would otherwise quote element by element.
   */
  async complete(batch: readonly Completion[], workerId: string): Promise<number> {
    let ids = '';
    let attempts = '';
    let results: Array<string | null> | null = null;
    for (let i = 0; i < batch.length; i++) {
      const c = batch[i];
      const comma = i === 0 ? '' : ',';
      ids += comma + c.id;
      attempts += comma + c.attempt;
      if (c.result !== null)
        (results ??= new Array<string | null>(batch.length).fill(null))[i] = c.result;
    }
    const values = [`{${ids}}`, `{${attempts}}`, results, workerId];
    const [row] = await this.run<{ changed: number }>('complete', values);
    return row.changed;
  }

  /** `$1` ids, `$2` attempts (same order), `$3` worker id. */
  markStarted(marks: StartMarks, workerId: string): Promise<number> {
    return count(this.run<IdRow>('markStarted', [marks.ids, marks.attempts, workerId]));
  }

  /** `$1` id, `$2` worker id, `$3` attempt, `$4` error record (JSON), `$5` retry delay in ms or null. */
  fail({ id, workerId, attempt, error, retryDelayMs }: FailedAttempt): Promise<number> {
    return count(this.run<IdRow>('fail', [id, workerId, attempt, error, retryDelayMs]));
  }

  /** `$1` id, `$2` worker id, `$3` attempt, `$4` delay in ms. */
  snooze(job: { id: string; attempt: number }, workerId: string, delayMs: number): Promise<number> {
    return count(this.run<IdRow>('snooze', [job.id, workerId, job.attempt, delayMs]));
  }

  /** `$1` ids, `$2` attempts (same order), `$3` worker id. */
  release(jobs: ReadonlyArray<{ id: string; attempt: number }>, workerId: string): Promise<number> {
    const ids = jobs.map((j) => j.id);
    const attempts = jobs.map((j) => j.attempt);
    return count(this.run<IdRow>('release', [ids, attempts, workerId]));
  }

  /** `$1` ids, `$2` worker id, `$3` lease in ms, `$4` ids and `$5` attempts of the start marks. */
  async extendLeases(
    ids: readonly string[],
    workerId: string,
    leaseMs: number,
    marks = NO_MARKS,
  ): Promise<void> {
    await this.run('heartbeat', [ids, workerId, leaseMs, marks.ids, marks.attempts]);
  }

  async rescue(): Promise<number> {
    return (await this.run('rescue', [])).length;
  }

  /** `$1` id, `$2` hostname, `$3` pid, `$4` queues, `$5` concurrency. */
  async upsertWorker(worker: WorkerRow, lockTimeoutMs: number): Promise<void> {
    const { id, hostname, pid, queues, concurrency } = worker;
    await this.underLockTimeout(lockTimeoutMs, upsertWorkerSql(this.schema), [
      id,
      hostname,
      pid,
      queues,
      concurrency,
    ]);
  }

  /** `$1` silence in ms. */
  async forgetSilentWorkers(silentForMs: number, lockTimeoutMs: number): Promise<void> {
    await this.underLockTimeout(lockTimeoutMs, forgetWorkersSql(this.schema), [silentForMs]);
  }

  /** `$1` id. */
  async deleteWorker(id: string, lockTimeoutMs: number): Promise<void> {
    await this.underLockTimeout(lockTimeoutMs, deleteWorkerSql(this.schema), [id]);
  }

  /** `$1` states, `$2` age in ms, `$3` batch size. */
  async purgeFinished(request: {
    states: readonly string[];
    olderThanMs: number;
    limit: number;
  }): Promise<number> {
    const { states, olderThanMs, limit } = request;
    return (await this.run('purge', [states, olderThanMs, limit])).length;
  }

  /** A statement on the worker's pool, or on `connection` (a claim, see `ClaimRequest.connection`). */
  private run<T extends QueryResultRow>(
    statement: Statement,
    values: unknown[],
    connection?: ClaimConnection,
  ): Promise<T[]> {
    if (connection) {
      const name = `${this.schema}.${statement}`;
      return connection
        .query<T>({ name, text: this.sql[statement], values })
        .then((result) => result.rows);
    }
    return this.db.query<T>(this.sql[statement], values, {
      name: `${this.schema}.${statement}`,
      worker: true,
    });
  }

  /**
   * One statement in a transaction of its own that waits at most `lockTimeoutMs` for a lock (then fails
   * with `lock_not_available`). Unnamed: the app's pool may sit behind a pooler that does not keep
   * prepared statements, and these run once per heartbeat at most.
   */
  private async underLockTimeout(
    lockTimeoutMs: number,
    text: string,
    values: unknown[],
  ): Promise<void> {
    await this.db.transaction(async (query) => {
      await query(LOCAL_LOCK_TIMEOUT_SQL, [String(Math.max(1, Math.round(lockTimeoutMs)))]);
      await query(text, values);
    });
  }
}

async function count(rows: Promise<IdRow[]>): Promise<number> {
  return (await rows).length;
}
