import { Inject, Injectable } from '@nestjs/common';
import type { QueryResultRow } from 'pg';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import type { JobAttempt } from './job-attempt';
import { JobsDatabase } from './jobs-database';
import { claimSql } from './sql/claim.sql';
import {
  limitedClaimSql,
  limitedPairsSql,
  limitUsageSql,
  MAX_PAIRS_PER_CLAIM,
  pruneWindowsSql,
} from './sql/limited-claim.sql';
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
  PurgeBatch,
  PurgeRequest,
  LimitCursor,
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
  | `${ClaimName}Unlimited`
  | 'limitedPairs'
  | 'limitUsage'
  | 'limitedClaim'
  | 'limitedClaimQueues'
  | 'pruneWindows'
  | 'complete'
  | 'fail'
  | 'snooze'
  | 'release'
  | 'heartbeat'
  | 'markStarted'
  | 'rescue'
  | 'purge';

/** The eight claim statements, each of which also exists for unlimited jobs only (`…Unlimited`). */
type ClaimName =
  | 'claim'
  | 'claimQueues'
  | 'fairClaim'
  | 'fairClaimQueues'
  | 'claimPaused'
  | 'claimQueuesPaused'
  | 'fairClaimPaused'
  | 'fairClaimQueuesPaused';

type IdRow = { id: string };
/** A pair the limited claim visited (`limitedPairsSql`). */
type PairRow = {
  ck: string;
  rk: string;
  cl: number | null;
  rl: number | null;
  rp: number | null;
  claimable: boolean;
};
/** A key's usage (`limitUsageSql`): space 1 concurrency, 2 rate. */
type UsageRow = { space: number; key: string; used: number; at: string };
/** A fair claim's row: the first one also names the last lane visited, `[queue, account]`. */
type FairClaimRow = JobAttempt & QueryResultRow & { fairCursor: [string, string] | null };

/**
 * How long claims leave the limited claim out after one that took nothing: at most this much later than
 * otherwise does a limited job start once a slot frees on another worker (within the poll interval
 * anyway, which bounds it when claims come back short).
 */
const LIMITED_IDLE_MS = 50;

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
    const claims = (unlimited: boolean) => ({
      claim: claimSql(schema, false, false, unlimited),
      claimQueues: claimSql(schema, true, false, unlimited),
      fairClaim: fairClaimSql(schema, false, false, unlimited),
      fairClaimQueues: fairClaimSql(schema, true, false, unlimited),
      // The same four with the paused lists as two more parameters, run only while something is paused.
      claimPaused: claimSql(schema, false, true, unlimited),
      claimQueuesPaused: claimSql(schema, true, true, unlimited),
      fairClaimPaused: fairClaimSql(schema, false, true, unlimited),
      fairClaimQueuesPaused: fairClaimSql(schema, true, true, unlimited),
    });
    // While limits are configured: the same eight for jobs without a limit (see `claim`).
    const unlimited = Object.fromEntries(
      Object.entries(claims(true)).map(([name, text]) => [`${name}Unlimited`, text]),
    ) as Record<`${ClaimName}Unlimited`, string>;
    this.sql = {
      ...claims(false),
      ...unlimited,
      limitedPairs: limitedPairsSql(schema),
      limitUsage: limitUsageSql(schema),
      limitedClaim: limitedClaimSql(schema, false),
      limitedClaimQueues: limitedClaimSql(schema, true),
      pruneWindows: pruneWindowsSql(schema),
      complete: completeSql(schema),
      fail: failSql(schema),
      snooze: snoozeSql(schema),
      release: releaseSql(schema),
      heartbeat: heartbeatSql(schema),
      markStarted: markStartedSql(schema),
      rescue: rescueSql(schema),
      purge: purgeSql(schema),
    };
  }

  /**
   * `$1` limit, `$2` worker id, `$3` lease in ms, `$4` queues (only when some queues are served); a fair
   * claim adds the cursor's queue and account (see `fairClaimSql`) and moves the cursor; while something
   * is paused, the `…Paused` statement adds the paused queues and accounts last. Every claim returns
   * `unstartedRescues` (how often a rescue gave the job back unstarted), so no second statement is needed.
   */
  claim(request: ClaimRequest): Promise<JobAttempt[]> {
    const limited = request.limited;
    if (!limited) return this.plainClaim(request, '');
    return this.claimBoth(request, limited);
  }

  /**
   * While limits are configured: the limited claim and the claim of unlimited jobs, one after the other,
   * the second for the room the first left; which goes first alternates between claims, so a backlog of
   * either kind cannot take every claim (priority holds within each kind, not between them).
   */
  private async claimBoth(request: ClaimRequest, cursor: LimitCursor): Promise<JobAttempt[]> {
    // The limited claim just found nothing to take (every key full, or no limited job): while the
    // unlimited jobs fill the claims, leave it out for a moment, so they do not pay its round trips
    // every time. A claim the unlimited jobs do not fill tries it at once (an idle worker never waits).
    if (Date.now() < cursor.idleUntil) {
      const unlimited = await this.plainClaim(request, 'Unlimited');
      if (unlimited.length === request.limit) return unlimited;
      const more = await this.limitedClaim(request, cursor, request.limit - unlimited.length);
      return more.length === 0 ? unlimited : unlimited.concat(more);
    }
    const limitedFirst = cursor.limitedFirst;
    cursor.limitedFirst = !limitedFirst;
    const limited = async (room: number) => {
      const jobs = await this.limitedClaim(request, cursor, room);
      if (jobs.length === 0) cursor.idleUntil = Date.now() + LIMITED_IDLE_MS;
      return jobs;
    };
    const first = limitedFirst
      ? await limited(request.limit)
      : await this.plainClaim(request, 'Unlimited');
    const room = request.limit - first.length;
    if (room <= 0) return first;
    const second = limitedFirst
      ? await this.plainClaim({ ...request, limit: room }, 'Unlimited')
      : await limited(room);
    // Only a worker kept busy by unlimited jobs skips limited claims (see above).
    if (first.length + second.length < request.limit) cursor.idleUntil = 0;
    return second.length === 0 ? first : first.concat(second);
  }

  /** One of the eight claims (`variant` `'Unlimited'`: of jobs without a limit only). */
  private plainClaim(
    { limit, workerId, leaseMs, queues, fair, paused, connection }: ClaimRequest,
    variant: '' | 'Unlimited',
  ): Promise<JobAttempt[]> {
    const all = !queues || queues.includes('*');
    const values: unknown[] = all ? [limit, workerId, leaseMs] : [limit, workerId, leaseMs, queues];
    if (fair) {
      values.push(fair.queue, fair.account);
      if (paused) values.push(paused.queues, paused.accounts);
      const statement = all ? 'fairClaim' : 'fairClaimQueues';
      const name = `${paused ? `${statement}Paused` : statement}${variant}` as Statement;
      return this.fairClaim(name, fair, values, connection);
    }
    if (paused) values.push(paused.queues, paused.accounts);
    const statement = all ? 'claim' : 'claimQueues';
    // The rows need no mapping: the statement names its columns after JobAttempt's fields.
    const name = `${paused ? `${statement}Paused` : statement}${variant}` as Statement;
    return this.run<JobAttempt & QueryResultRow>(name, values, connection);
  }

  /**
   * Up to `limit` jobs with a limit, in one transaction on the worker's pool (the locking is explained
   * in `limited-claim.sql.ts`): the pairs of keys after the cursor, locked with try-locks; the usage of
   * the locked keys; then each claimable pair's share of the room, allotted here in visit order (the
   * smallest room of its keys, taken from both, so pairs sharing a key share its room), claimed.
   */
  private limitedClaim(
    { workerId, leaseMs, queues, paused }: ClaimRequest,
    cursor: LimitCursor,
    limit: number,
  ): Promise<JobAttempt[]> {
    return this.db.transaction(
      async (query) => {
        const name = (statement: Statement) => `${this.schema}.${statement}`;
        const pairs = await query<PairRow>(
          this.sql.limitedPairs,
          [pairsToVisit(limit), cursor.concurrencyKey, cursor.rateKey],
          name('limitedPairs'),
        );
        if (pairs.length === 0) return [];
        const last = pairs[pairs.length - 1];
        cursor.concurrencyKey = last.ck;
        cursor.rateKey = last.rk;
        const open = pairs.filter((p) => p.claimable);
        if (open.length === 0) return [];
        // Room per key: the smallest limit among its pairs (as stored with their jobs) minus its usage.
        const cap = new Map<string, number>();
        const periods = new Map<string, number>();
        for (const p of open) {
          if (p.ck !== '')
            cap.set(`1${p.ck}`, Math.min(cap.get(`1${p.ck}`) ?? Infinity, p.cl ?? 0));
          if (p.rk !== '') {
            cap.set(`2${p.rk}`, Math.min(cap.get(`2${p.rk}`) ?? Infinity, p.rl ?? 0));
            if (!periods.has(p.rk)) periods.set(p.rk, Math.max(1, p.rp ?? 1));
          }
        }
        const cks = open.filter((p) => p.ck !== '').map((p) => p.ck);
        const usage = await query<UsageRow>(
          this.sql.limitUsage,
          [[...new Set(cks)], [...periods.keys()], [...periods.values()]],
          name('limitUsage'),
        );
        for (const u of usage)
          cap.set(`${u.space}${u.key}`, (cap.get(`${u.space}${u.key}`) ?? 0) - u.used);
        const take = allot(open, cap, limit);
        if (take.counts.length === 0) return [];
        const all = !queues || queues.includes('*');
        const values: unknown[] = [
          take.cks,
          take.rks,
          take.counts,
          take.rks.map((rk) => periods.get(rk) ?? 0),
          workerId,
          leaseMs,
          usage[0].at,
          paused?.queues ?? [],
          paused?.accounts ?? [],
        ];
        if (!all) values.push(queues);
        const statement = all ? 'limitedClaim' : 'limitedClaimQueues';
        return query<JobAttempt & QueryResultRow>(this.sql[statement], values, name(statement));
      },
      { worker: true },
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

  /** Deletes up to `limit` rate windows that ended over a minute ago; resolves with how many. */
  async pruneRateWindows(limit: number): Promise<number> {
    return (await this.run('pruneWindows', [limit])).length;
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

  /** `$1` state, `$2` age in ms, `$3` batch size, `$4` the previous batch's newest `finished_at`. */
  async purgeFinished(request: PurgeRequest): Promise<PurgeBatch> {
    const { state, olderThanMs, limit, after } = request;
    const [batch] = await this.run<PurgeBatch>('purge', [state, olderThanMs, limit, after]);
    return batch;
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

/**
 * How many pairs a limited claim of `limit` jobs visits: twice the jobs (some pairs are full, or held by
 * another claimer), at least 16 (so a small claim still moves past full keys quickly), at most
 * `MAX_PAIRS_PER_CLAIM` (each costs an index descent, about 10 µs).
 */
function pairsToVisit(limit: number): number {
  return Math.min(MAX_PAIRS_PER_CLAIM, Math.max(16, limit * 2));
}

/**
 * Each open pair's share of `limit`, in visit order: the smaller room of its concurrency key and its rate
 * key (`cap`, keyed by space and key; a pair without one of them is not bounded by it), taken from both.
 */
function allot(
  pairs: readonly PairRow[],
  cap: Map<string, number>,
  limit: number,
): { cks: string[]; rks: string[]; counts: number[] } {
  const cks: string[] = [];
  const rks: string[] = [];
  const counts: number[] = [];
  let left = limit;
  for (const p of pairs) {
    if (left <= 0) break;
    const c = p.ck === '' ? Infinity : (cap.get(`1${p.ck}`) ?? 0);
    const r = p.rk === '' ? Infinity : (cap.get(`2${p.rk}`) ?? 0);
    const n = Math.min(left, c, r);
    if (n <= 0) continue;
    if (p.ck !== '') cap.set(`1${p.ck}`, c - n);
    if (p.rk !== '') cap.set(`2${p.rk}`, r - n);
    cks.push(p.ck);
    rks.push(p.rk);
    counts.push(n);
    left -= n;
  }
  return { cks, rks, counts };
}

async function count(rows: Promise<IdRow[]>): Promise<number> {
  return (await rows).length;
}
