import type { JobState } from '../interfaces';
import { JobsDatabase } from './jobs-database';
import { reportedState } from './job-row';
import {
  BoundStatement,
  JobListFilter,
  accountCountsSql,
  childrenSql,
  filteredIdsSql,
  listJobsSql,
  oldestWaitingSql,
  queueCountsSql,
  recentTicksSql,
  throughputSql,
  workersSql,
} from './sql/dashboard.sql';

export type { JobListFilter, ListedState } from './sql/dashboard.sql';

/** A row of the job list: what the list shows, never the payload or result. */
export interface JobListRow {
  id: string;
  name: string;
  queue: string;
  state: JobState;
  accountId: string | null;
  attempts: number;
  maxAttempts: number;
  runAt: Date;
  createdAt: Date;
  finishedAt: Date | null;
  /** The last error's message, for failed or retrying jobs. */
  error: string | null;
}

/** Per queue: counts by state, the last hour's throughput, the oldest job waiting. */
export interface QueueOverview {
  queue: string;
  counts: Partial<Record<JobState, number>>;
  /** Twelve 5-minute buckets, oldest first. */
  completed: number[];
  failed: number[];
  oldestWaiting: { id: string; waitingMs: number } | null;
}

/** A worker row and how many jobs it holds. */
export interface WorkerRow {
  id: string;
  hostname: string;
  pid: number;
  queues: string[];
  concurrency: number;
  startedAt: Date;
  lastHeartbeatAt: Date;
  /** Milliseconds since the last heartbeat, by the database's clock. */
  heartbeatAgeMs: number;
  held: number;
}

/** Job counts of one account. */
export interface AccountRow {
  accountId: string;
  counts: Record<JobState, number>;
  total: number;
}

/** A recorded tick of a schedule. */
export interface TickRow {
  scheduleKey: string;
  fireTime: Date;
  jobIds: string[];
  createdAt: Date;
}

const BUCKETS = 12;

/**
 * The dashboard's read-only look-ups (statements in `sql/dashboard.sql.ts`), on the app's pool. Every
 * method that reads jobs takes the account the page is scoped to (`undefined` = every account).
 */
export class DashboardRepository {
  constructor(
    private readonly db: JobsDatabase,
    private readonly schema: string,
  ) {}

  private run<T extends object>(statement: BoundStatement): Promise<T[]> {
    return this.db.query<T>(statement.text, statement.values);
  }

  /** One page of jobs, newest first. */
  listJobs(filter: JobListFilter, limit: number): Promise<JobListRow[]> {
    return this.listRows(listJobsSql(this.schema, filter, limit));
  }

  /** Rows of a statement that selects the list's columns. */
  private async listRows(statement: BoundStatement): Promise<JobListRow[]> {
    type Row = {
      id: string;
      name: string;
      queue: string;
      state: Exclude<JobState, 'scheduled'>;
      account_id: string | null;
      attempts: number;
      max_attempts: number;
      run_at: Date;
      created_at: Date;
      finished_at: Date | null;
      error: string | null;
      db_now: Date;
    };
    const rows = await this.run<Row>(statement);
    return rows.map((r) => ({
      id: r.id,
      name: r.name,
      queue: r.queue,
      state: reportedState(r, r.db_now),
      accountId: r.account_id,
      attempts: r.attempts,
      maxAttempts: r.max_attempts,
      runAt: r.run_at,
      createdAt: r.created_at,
      finishedAt: r.finished_at,
      error: r.error,
    }));
  }

  /** The jobs `parentId` enqueued (of `accountId` only, when given), newest first, below `before`. */
  async children(
    parentId: string,
    accountId: string | undefined,
    before: string | undefined,
    limit: number,
  ): Promise<JobListRow[]> {
    return this.listRows(childrenSql(this.schema, parentId, accountId, before, limit));
  }

  /** Ids matching `filter`, newest first, at most `limit` (what a bulk action applies to). */
  async filteredIds(filter: JobListFilter, limit: number): Promise<string[]> {
    const rows = await this.run<{ id: string }>(filteredIdsSql(this.schema, filter, limit));
    return rows.map((r) => r.id);
  }

  /** The overview of every queue that has jobs (of the account, when given). */
  async overview(accountId?: string): Promise<QueueOverview[]> {
    const [counts, throughput, oldest] = await Promise.all([
      this.run<{ queue: string; state: JobState; count: number }>(
        queueCountsSql(this.schema, accountId),
      ),
      this.run<{ queue: string; state: 'completed' | 'failed'; bucket: number; count: number }>(
        throughputSql(this.schema, accountId),
      ),
      this.run<{ queue: string; id: string; run_at: Date; db_now: Date }>(
        oldestWaitingSql(this.schema, accountId),
      ),
    ]);
    const queues = new Map<string, QueueOverview>();
    const queueOf = (queue: string): QueueOverview => {
      let entry = queues.get(queue);
      if (!entry) {
        entry = {
          queue,
          counts: {},
          completed: new Array<number>(BUCKETS).fill(0),
          failed: new Array<number>(BUCKETS).fill(0),
          oldestWaiting: null,
        };
        queues.set(queue, entry);
      }
      return entry;
    };
    for (const c of counts) queueOf(c.queue).counts[c.state] = c.count;
    for (const t of throughput) queueOf(t.queue)[t.state][BUCKETS - 1 - t.bucket] += t.count;
    for (const o of oldest) {
      queueOf(o.queue).oldestWaiting = {
        id: o.id,
        waitingMs: Math.max(0, o.db_now.getTime() - o.run_at.getTime()),
      };
    }
    return [...queues.values()].sort((a, b) => a.queue.localeCompare(b.queue));
  }

  /** The newest `perSchedule` ticks of each schedule. */
  async recentTicks(keys: string[], perSchedule: number): Promise<TickRow[]> {
    if (keys.length === 0) return [];
    const rows = await this.db.query<{
      schedule_key: string;
      fire_time: Date;
      job_ids: string[];
      created_at: Date;
    }>(recentTicksSql(this.schema), [keys, perSchedule]);
    return rows.map((r) => ({
      scheduleKey: r.schedule_key,
      fireTime: r.fire_time,
      jobIds: r.job_ids,
      createdAt: r.created_at,
    }));
  }

  /** Every registered worker, oldest first. */
  async workers(): Promise<WorkerRow[]> {
    const rows = await this.db.query<{
      id: string;
      hostname: string;
      pid: number;
      queues: string[];
      concurrency: number;
      started_at: Date;
      last_heartbeat_at: Date;
      held: number;
      db_now: Date;
    }>(workersSql(this.schema), []);
    return rows.map((r) => ({
      id: r.id,
      hostname: r.hostname,
      pid: r.pid,
      queues: r.queues,
      concurrency: r.concurrency,
      startedAt: r.started_at,
      lastHeartbeatAt: r.last_heartbeat_at,
      heartbeatAgeMs: Math.max(0, r.db_now.getTime() - r.last_heartbeat_at.getTime()),
      held: r.held,
    }));
  }

  /** Job counts of the `limit` accounts with the most jobs. */
  async accounts(limit: number): Promise<AccountRow[]> {
    const rows = await this.db.query<Record<JobState | 'total', number> & { account_id: string }>(
      accountCountsSql(this.schema),
      [limit],
    );
    return rows.map(({ account_id, total, ...counts }) => ({
      accountId: account_id,
      counts,
      total,
    }));
  }
}
