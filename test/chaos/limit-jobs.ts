/**
 * The jobs of the limits crash suite (test/limits-crash.e2e-spec.ts), performed by worker processes
 * started with `CHAOS_PROFILE=limits`: a job limited to `LIMIT_PER_KEY` running at once per payload key.
 * Every run records its start and, if its process survives, its end in `limit_runs` (own statements, so
 * a run cut short by SIGKILL still shows its start); the test reads the overlaps per key.
 */
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Job, JobContext, JobHandler, WorkerOptions } from 'nestjs-tenant-jobs';

export const LIMIT_JOB = 'limits.chaos';
export const LIMIT_PER_KEY = 2;

/** Short leases, so the slots of a killed worker come back quickly. */
export const LIMIT_WORKER = {
  concurrency: 6,
  leaseMs: 1_500,
  heartbeatIntervalMs: 300,
  rescueIntervalMs: 300,
  pollIntervalMs: 100,
  shutdownTimeoutMs: 3_000,
} satisfies WorkerOptions;

export const LIMIT_TABLES_SQL = `
  create table limit_runs (
    id         bigint generated always as identity primary key,
    job_id     bigint  not null,
    key        text    not null,
    pid        integer not null,
    started_at timestamptz not null default clock_timestamp(),
    ended_at   timestamptz
  );`;

export interface LimitPayload {
  key: string;
  n: number;
}

@Job({
  name: LIMIT_JOB,
  tenant: 'none',
  maxAttempts: 25,
  backoff: { type: 'fixed', baseMs: 10, jitter: 0 },
  concurrency: { limit: LIMIT_PER_KEY, key: (p: LimitPayload) => p.key },
})
export class LimitChaosJob implements JobHandler<LimitPayload> {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async perform(p: LimitPayload, ctx: JobContext): Promise<void> {
    const rows: Array<{ id: string }> = await this.ds.query(
      'insert into limit_runs (job_id, key, pid) values ($1, $2, $3) returning id::text as id',
      [ctx.id, p.key, process.pid],
    );
    await new Promise((resolve) => setTimeout(resolve, 20 + (p.n % 5) * 10));
    await this.ds.query('update limit_runs set ended_at = clock_timestamp() where id = $1', [
      rows[0].id,
    ]);
  }
}
