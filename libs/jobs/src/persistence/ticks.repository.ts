import { Inject, Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import type { TickResult } from './job-store';
import { JobsDatabase } from './jobs-database';
import {
  claimTickSql,
  lastTickSql,
  purgeTicksSql,
  recordTickJobIdsSql,
  tickJobIdsSql,
} from './sql/recurring.sql';

/**
 * The statements of recurring ticks (`recurring_executions`): the exactly-once guard of a tick, the last
 * recorded tick of a schedule, and the purge of old tick rows.
 */
@Injectable()
export class TicksRepository {
  private readonly sql: Record<'claim' | 'jobIds' | 'record' | 'last' | 'purge', string>;

  constructor(
    private readonly db: JobsDatabase,
    @Inject(RESOLVED_JOBS_OPTIONS) options: ResolvedJobsOptions,
  ) {
    const schema = options.schema;
    this.sql = {
      claim: claimTickSql(schema),
      jobIds: tickJobIdsSql(schema),
      record: recordTickJobIdsSql(schema),
      last: lastTickSql(schema),
      purge: purgeTicksSql(schema),
    };
  }

  /**
   * `enqueue` runs (in the guard's transaction, or the caller's `manager`) only if the tick (`key`,
   * `fireTime`) is new; otherwise the ids recorded by the replica that enqueued it are returned. See
   * `claimTickSql` for why this is race-free.
   */
  once(
    key: string,
    fireTime: Date,
    enqueue: (manager: EntityManager) => Promise<string[]>,
    manager?: EntityManager,
  ): Promise<TickResult> {
    const run = async (m: EntityManager): Promise<TickResult> => {
      const won = (await m.query(this.sql.claim, [key, fireTime])) as unknown[];
      if (won.length === 0) {
        const [row] = (await m.query(this.sql.jobIds, [key, fireTime])) as Array<{
          job_ids: string[];
        }>;
        return { jobIds: row?.job_ids ?? [], enqueued: false };
      }
      const jobIds = await enqueue(m);
      await m.query(this.sql.record, [key, fireTime, jobIds]);
      return { jobIds, enqueued: true };
    };
    return manager ? run(manager) : this.db.dataSource.transaction(run);
  }

  /** The newest recorded fire time of a schedule, or `null` for a schedule that never ticked. */
  async lastFireTime(key: string): Promise<Date | null> {
    const [row] = await this.db.query<{ fire_time: Date | null }>(this.sql.last, [key]);
    return row?.fire_time ?? null;
  }

  /** Forgets ticks older than `olderThanMs`, except each schedule's newest (the missed-tick check reads it). */
  async purge(olderThanMs: number): Promise<void> {
    await this.db.query(this.sql.purge, [olderThanMs]);
  }
}
