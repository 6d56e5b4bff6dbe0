/**
 * The jobs of the crash suite (test/crash.e2e-spec.ts): handlers that kill the worker process that runs
 * them in the three ways no handler can catch, and a companion job that only completes. The test holds
 * 300 companions in the dying worker's buffer and checks that a crash costs an attempt only of the job
 * that had started.
 *
 * Each crasher records its start in `crash_runs` first (its own statement), so the test counts how often
 * it ran, then dies at once: nothing the worker writes lazily (its start mark) can get out before it.
 */
import { InjectDataSource } from '@nestjs/typeorm';
import { DataSource } from 'typeorm';
import { Job, JobContext, JobHandler, WorkerOptions } from 'nestjs-tenant-jobs';

/** How the crasher kills its process. */
export type CrashKind = 'uncaught' | 'unhandled' | 'exit';

export const CRASH_KINDS: readonly CrashKind[] = ['uncaught', 'unhandled', 'exit'];
export const CRASH_COMPANION_JOB = 'crash.companion';
export const crashJobName = (kind: CrashKind) => `crash.${kind}`;

/**
 * Worker settings of the crash processes (`CHAOS_PROFILE=crash`): one slot and a fixed prefetch, so the
 * crasher runs alone while every companion waits in the buffer; short leases, so rescues come quickly.
 */
export const CRASH_WORKER = {
  concurrency: 1,
  prefetch: 400,
  leaseMs: 1_500,
  heartbeatIntervalMs: 200,
  rescueIntervalMs: 200,
  pollIntervalMs: 100,
  shutdownTimeoutMs: 2_000,
} satisfies WorkerOptions;

export const CRASH_TABLES_SQL = `
  create table crash_runs (
    id      bigint generated always as identity primary key,
    job_id  bigint  not null,
    attempt integer not null,
    pid     integer not null
  );`;

async function recordRun(ds: DataSource, ctx: JobContext): Promise<void> {
  await ds.query('insert into crash_runs (job_id, attempt, pid) values ($1, $2, $3)', [
    ctx.id,
    ctx.attempt,
    process.pid,
  ]);
}

const never = () => new Promise<never>(() => undefined);

@Job({ name: crashJobName('uncaught'), tenant: 'none', maxAttempts: 1 })
export class UncaughtCrashJob implements JobHandler<Record<string, never>> {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async perform(_payload: Record<string, never>, ctx: JobContext): Promise<void> {
    await recordRun(this.ds, ctx);
    setImmediate(() => {
      throw new Error('crash.uncaught: thrown from a callback, outside any promise');
    });
    return never();
  }
}

@Job({ name: crashJobName('unhandled'), tenant: 'none', maxAttempts: 1 })
export class UnhandledCrashJob implements JobHandler<Record<string, never>> {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async perform(_payload: Record<string, never>, ctx: JobContext): Promise<void> {
    await recordRun(this.ds, ctx);
    void Promise.reject(new Error('crash.unhandled: a rejection nobody handles'));
    return never();
  }
}

@Job({ name: crashJobName('exit'), tenant: 'none', maxAttempts: 1 })
export class ExitCrashJob implements JobHandler<Record<string, never>> {
  constructor(@InjectDataSource() private readonly ds: DataSource) {}

  async perform(_payload: Record<string, never>, ctx: JobContext): Promise<void> {
    await recordRun(this.ds, ctx);
    process.exit(1);
  }
}

@Job({ name: CRASH_COMPANION_JOB, tenant: 'none', maxAttempts: 1 })
export class CrashCompanionJob implements JobHandler<{ n: number }, number> {
  perform(payload: { n: number }): number {
    return payload.n;
  }
}

export const CRASH_JOBS = [UncaughtCrashJob, UnhandledCrashJob, ExitCrashJob, CrashCompanionJob];
