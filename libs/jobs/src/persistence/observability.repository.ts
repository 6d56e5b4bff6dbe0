import { Inject, Injectable } from '@nestjs/common';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { JobsDatabase } from './jobs-database';
import { progressSql, queueStatsSql, workerHeartbeatAgeSql } from './sql/observability.sql';

/** One queue's unfinished jobs, as `queueStats` reads them. */
export interface QueueStats {
  queue: string;
  /** Due now (`available`, `run_at` passed). */
  available: number;
  /** `available`, due later. */
  scheduled: number;
  running: number;
  /** Age of the oldest due job, in seconds (0 when none is due). */
  oldestAgeSeconds: number;
}

/**
 * The statements of metrics, health and progress. Reads run on the app's pool (they are rare and must
 * not take a worker connection); the progress write runs on the worker's, like the attempt's other
 * writes.
 */
@Injectable()
export class ObservabilityRepository {
  private readonly sql: { stats: string; heartbeat: string; progress: string };

  constructor(
    private readonly db: JobsDatabase,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {
    const schema = options.schema;
    this.sql = {
      stats: queueStatsSql(schema),
      heartbeat: workerHeartbeatAgeSql(schema),
      progress: progressSql(schema),
    };
  }

  /** Every queue with unfinished jobs. */
  queueStats(): Promise<QueueStats[]> {
    return this.db.query<QueueStats & Record<string, unknown>>(this.sql.stats, []);
  }

  /** Milliseconds since worker `id` last heartbeated, or `undefined` when it has no row. */
  async heartbeatAgeMs(id: string): Promise<number | undefined> {
    const rows = await this.db.query<{ ageMs: number }>(this.sql.heartbeat, [id]);
    return rows[0]?.ageMs;
  }

  /** `$1` id, `$2` worker id, `$3` attempt, `$4` progress (JSON text); resolves with rows changed. */
  async writeProgress(
    job: { id: string; attempt: number },
    workerId: string,
    json: string,
  ): Promise<number> {
    const rows = await this.db.query(this.sql.progress, [job.id, workerId, job.attempt, json], {
      name: `${this.options.schema}.progress`,
      worker: true,
    });
    return rows.length;
  }
}
