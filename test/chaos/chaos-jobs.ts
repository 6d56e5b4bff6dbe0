/**
 * The jobs of the chaos suite, shared by the worker processes (which perform them) and the test process
 * (which enqueues them and reads their bookkeeping tables).
 *
 * - `chaos.effect` is an idempotent handler keyed by job id. Every attempt records its start in
 *   `chaos_executions` in its own statement (so an attempt cut short by SIGKILL or a dropped connection is
 *   still counted), waits 10–60 ms, then in ONE transaction applies its effect
 *   (`insert … on conflict (job_id) do nothing`) and marks its execution `applied`, or `duplicate` when the
 *   effect was already there: a re-execution whose predecessor committed the effect but died, or lost its
 *   connection, before the job's completion was recorded.
 * - `chaos.poison` records its start, runs for two heartbeat intervals (so its worker has recorded its
 *   start: the crash counts as an attempt), then SIGKILLs its own process. A job that kills its process
 *   before its start is recorded is the crash suite's (test/crash.e2e-spec.ts).
 */
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Job, JobContext, JobHandler, WorkerOptions } from 'nestjs-tenant-jobs';

export const CHAOS_EFFECT_JOB = 'chaos.effect';
export const CHAOS_POISON_JOB = 'chaos.poison';
export const POISON_MAX_ATTEMPTS = 2;

/** Worker settings of every chaos process; the test derives its bounds from them. */
export const CHAOS_WORKER = {
  concurrency: 10,
  leaseMs: 1_500,
  heartbeatIntervalMs: 300,
  rescueIntervalMs: 300,
  pollIntervalMs: 200,
  shutdownTimeoutMs: 5_000,
} satisfies WorkerOptions;

/** `prefetch` defaults to `concurrency`. */
export const CHAOS_MAX_HELD = CHAOS_WORKER.concurrency * 2;

export const CHAOS_WORKER_APPLICATION_NAME = 'chaos-worker';

/** The bookkeeping tables; created by the test before any worker starts. */
export const CHAOS_TABLES_SQL = `
  create table chaos_effects (
    job_id  bigint primary key,
    attempt integer not null,
    pid     integer not null,
    at      timestamptz not null default clock_timestamp()
  );
  create table chaos_executions (
    id      bigint generated always as identity primary key,
    job_id  bigint  not null,
    attempt integer not null,
    pid     integer not null,
    outcome text check (outcome in ('applied', 'duplicate')),
    at      timestamptz not null default clock_timestamp()
  );
  create index chaos_executions_job_idx on chaos_executions (job_id);`;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function recordStart(ds: DataSource, ctx: JobContext): Promise<string> {
  const rows: Array<{ id: string }> = await ds.query(
    'insert into chaos_executions (job_id, attempt, pid) values ($1, $2, $3) returning id::text as id',
    [ctx.id, ctx.attempt, process.pid],
  );
  return rows[0].id;
}

export interface EffectPayload {
  n: number;
}

@Job({
  name: CHAOS_EFFECT_JOB,
  tenant: 'none',
  maxAttempts: 25,
  backoff: { type: 'fixed', baseMs: 10, jitter: 0 },
})
export class ChaosEffectJob implements JobHandler<EffectPayload> {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async perform(_payload: EffectPayload, ctx: JobContext): Promise<void> {
    const execution = await recordStart(this.ds, ctx);
    await sleep(10 + Math.floor(Math.random() * 51));
    await this.ds.transaction(async (m) => {
      const inserted: unknown[] = await m.query(
        `insert into chaos_effects (job_id, attempt, pid) values ($1, $2, $3)
         on conflict (job_id) do nothing returning job_id`,
        [ctx.id, ctx.attempt, process.pid],
      );
      await m.query('update chaos_executions set outcome = $2 where id = $1', [
        execution,
        inserted.length === 1 ? 'applied' : 'duplicate',
      ]);
    });
  }
}

@Job({ name: CHAOS_POISON_JOB, tenant: 'none', maxAttempts: POISON_MAX_ATTEMPTS })
export class ChaosPoisonJob implements JobHandler<Record<string, never>> {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async perform(_payload: Record<string, never>, ctx: JobContext): Promise<void> {
    await recordStart(this.ds, ctx);
    await sleep(2 * CHAOS_WORKER.heartbeatIntervalMs);
    process.kill(process.pid, 'SIGKILL');
    await sleep(60_000); // not reached
  }
}
