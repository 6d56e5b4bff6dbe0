import type { JobErrorRecord, JobRecord, JobState } from '../interfaces';

/** A `jobs` row as `select *` returns it (plus the database clock, to report `scheduled`). */
export interface JobRow {
  id: string;
  name: string;
  queue: string;
  priority: number;
  state: Exclude<JobState, 'scheduled'>;
  payload: unknown;
  account_id: string | null;
  attempts: number;
  max_attempts: number;
  run_at: Date;
  locked_by: string | null;
  locked_until: Date | null;
  last_error: JobErrorRecord | null;
  errors: JobErrorRecord[];
  result: unknown;
  unique_key: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  db_now: Date;
}

export function toJobRecord(row: JobRow): JobRecord {
  const scheduled = row.state === 'available' && row.run_at.getTime() > row.db_now.getTime();
  return {
    id: row.id,
    name: row.name,
    queue: row.queue,
    priority: row.priority,
    state: scheduled ? 'scheduled' : row.state,
    payload: row.payload,
    accountId: row.account_id,
    attempts: row.attempts,
    maxAttempts: row.max_attempts,
    runAt: row.run_at,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    durationMs:
      row.finished_at && row.started_at
        ? row.finished_at.getTime() - row.started_at.getTime()
        : null,
    lastError: row.last_error,
    errors: row.errors,
    result: row.result,
    uniqueKey: row.unique_key,
    lockedBy: row.locked_by,
    lockedUntil: row.locked_until,
  };
}
