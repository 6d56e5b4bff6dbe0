/**
 * A standalone worker process for the chaos suite (test/chaos.e2e-spec.ts): a Nest application context
 * with TypeORM, CLS and the jobs module performing the jobs of ./chaos-jobs.
 *
 * Environment: `CHAOS_DATABASE_URL` (required); `CHAOS_PROFILE=crash` runs the crash suite's jobs and
 * worker settings (./crash-jobs) instead of the chaos ones, `CHAOS_PROFILE=limits` the limits crash
 * suite's (./limit-jobs); `CHAOS_POOLER=transaction` when the URL is a
 * PgBouncer's in transaction mode (test/pgbouncer.e2e-spec.ts), with `CHAOS_LISTEN_URL` a direct URL for
 * LISTEN (else the worker polls). The test ran the migrations and created the bookkeeping
 * tables. Prints `ready` on a line of its own once the worker has started; exits 0 after a graceful
 * SIGTERM/SIGINT. When spawned with an IPC channel it stops (gracefully, then hard) as soon as that channel
 * closes, so a test runner that dies never leaves workers behind.
 */
import 'reflect-metadata';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { JobsModule } from 'nestjs-tenant-jobs';
import {
  CHAOS_WORKER,
  CHAOS_WORKER_APPLICATION_NAME,
  ChaosEffectJob,
  ChaosPoisonJob,
} from './chaos-jobs';
import { CRASH_JOBS, CRASH_WORKER } from './crash-jobs';
import { LIMIT_WORKER, LimitChaosJob } from './limit-jobs';

const crash = process.env.CHAOS_PROFILE === 'crash';
const limits = process.env.CHAOS_PROFILE === 'limits';

@Module({
  imports: [
    TypeOrmModule.forRoot({
      type: 'postgres',
      url: process.env.CHAOS_DATABASE_URL,
      extra: {
        max: 10,
        connectionTimeoutMillis: 2_000,
        application_name: CHAOS_WORKER_APPLICATION_NAME,
      },
      // A worker started while the database is down fails fast; the test restarts it.
      retryAttempts: 2,
      retryDelay: 500,
    }),
    ClsModule.forRoot({ global: true }),
    JobsModule.forRoot({
      runMigrations: false, // the test ran them; restarting workers must not race on them
      retention: false,
      ...(process.env.CHAOS_POOLER === 'transaction'
        ? {
            database: { pooler: 'transaction' as const },
            ...(process.env.CHAOS_LISTEN_URL ? { listen: process.env.CHAOS_LISTEN_URL } : {}),
          }
        : {}),
      worker: crash ? CRASH_WORKER : limits ? LIMIT_WORKER : CHAOS_WORKER,
    }),
  ],
  providers: crash ? CRASH_JOBS : limits ? [LimitChaosJob] : [ChaosEffectJob, ChaosPoisonJob],
})
export class ChaosWorkerModule {}

async function main(): Promise<void> {
  if (!process.env.CHAOS_DATABASE_URL) throw new Error('CHAOS_DATABASE_URL is not set');
  let started = false;
  if (process.channel) {
    process.channel.unref();
    process.once('disconnect', () => {
      if (!started) process.exit(1);
      setTimeout(() => process.kill(process.pid, 'SIGKILL'), 10_000).unref();
      process.kill(process.pid, 'SIGTERM');
    });
  }
  const app = await NestFactory.createApplicationContext(ChaosWorkerModule, {
    logger: ['error', 'warn', 'log'],
  });
  app.enableShutdownHooks(['SIGTERM', 'SIGINT'], { useProcessExit: true });
  started = true;
  process.stdout.write('ready\n');
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error('chaos worker failed to start:', error);
    process.exit(1);
  });
}
