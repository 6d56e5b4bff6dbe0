import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { JobsDatabase } from '../persistence/jobs-database';
import { claimTickSql, recordTickJobIdsSql, tickJobIdsSql } from '../persistence/sql/recurring.sql';

/** What one guarded tick did. */
export interface TickResult {
  /** The tick's job ids: the ones just enqueued, or those another replica enqueued for it. */
  jobIds: string[];
  /** `true` if this call enqueued them; `false` if the tick had already been enqueued. */
  enqueued: boolean;
}

/**
 * Runs an enqueue at most once per (key, fire time) across every process on the database. See
 * `claimTickSql` for why this is race-free.
 */
@Injectable()
export class TickGuard {
  constructor(
    private readonly db: JobsDatabase,
    @Inject(RESOLVED_JOBS_OPTIONS) private readonly options: ResolvedJobsOptions,
  ) {}

  /** `enqueue` runs (in the guard's transaction, or the caller's `manager`) only if this tick is new. */
  async once(
    key: string,
    fireTime: Date,
    enqueue: (manager: EntityManager) => Promise<string[]>,
    manager?: EntityManager,
  ): Promise<TickResult> {
    const schema = this.options.schema;
    const run = async (m: EntityManager): Promise<TickResult> => {
      const won = (await m.query(claimTickSql(schema), [key, fireTime])) as unknown[];
      if (won.length === 0) {
        const [row] = (await m.query(tickJobIdsSql(schema), [key, fireTime])) as Array<{
          job_ids: string[];
        }>;
        return { jobIds: row?.job_ids ?? [], enqueued: false };
      }
      const jobIds = await enqueue(m);
      await m.query(recordTickJobIdsSql(schema), [key, fireTime, jobIds]);
      return { jobIds, enqueued: true };
    };
    return manager ? run(manager) : this.db.dataSource.transaction(run);
  }
}
