import { Inject, Injectable } from '@nestjs/common';
import type { QueryResultRow } from 'pg';
import type { PausedEntry, PauseKind } from '../interfaces';
import { RESOLVED_JOBS_OPTIONS } from '../jobs.internal-constants';
import type { ResolvedJobsOptions } from '../jobs-options';
import { JobsDatabase } from './jobs-database';
import { pauseChannel } from './notify-channel';
import type { PausedLists, PauseStore } from './pause-store';
import { listPausedSql, pausedListsSql, pauseSql, resumeSql } from './sql/paused.sql';

/**
 * The `paused` table on PostgreSQL: pauses and resumes on the app's pool (admin calls, rare), and the
 * worker's read of the lists on the worker's pool, as a named statement (it runs every poll interval).
 */
@Injectable()
export class PausedRepository implements PauseStore {
  private readonly schema: string;
  private readonly channel: string;
  private readonly sql: { pause: string; resume: string; list: string; lists: string };

  constructor(
    private readonly db: JobsDatabase,
    @Inject(RESOLVED_JOBS_OPTIONS) options: ResolvedJobsOptions,
  ) {
    const schema = (this.schema = options.schema);
    this.channel = pauseChannel(schema);
    this.sql = {
      pause: pauseSql(schema),
      resume: resumeSql(schema),
      list: listPausedSql(schema),
      lists: pausedListsSql(schema),
    };
  }

  /** `$1` kind, `$2` key, `$3` the pause channel. */
  async pause(kind: PauseKind, key: string): Promise<boolean> {
    return (await this.db.query(this.sql.pause, [kind, key, this.channel])).length === 1;
  }

  /** `$1` kind, `$2` key, `$3` the pause channel. */
  async resume(kind: PauseKind, key: string): Promise<boolean> {
    return (await this.db.query(this.sql.resume, [kind, key, this.channel])).length === 1;
  }

  /** `$1` the account whose view this is, or null for every pause. */
  listPaused(accountId: string | null): Promise<PausedEntry[]> {
    return this.db.query<PausedEntry & QueryResultRow>(this.sql.list, [accountId]);
  }

  /** The worker's lists (see `pausedListsSql`). */
  async pausedLists(): Promise<PausedLists> {
    const [row] = await this.db.query<PausedLists & QueryResultRow>(this.sql.lists, [], {
      name: `${this.schema}.pausedLists`,
      worker: true,
    });
    return row;
  }
}
