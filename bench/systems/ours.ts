/**
 * nest-tenant-jobs as an application would use it: a Nest application context with TypeORM, nestjs-cls
 * and JobsModule (tenant context on `accountId`), and a `@Job` whose payload class is validated with
 * class-validator at enqueue and again before perform.
 */
import { DynamicModule, INestApplicationContext, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { IsInt } from 'class-validator';
import { ClsModule } from 'nestjs-cls';
import { Job, JobHandler, JobQueueService, JobsModule, JobWorker } from 'nestjs-tenant-jobs';
import { registerBenchOtel } from './ours-otel';
import type { BenchSystem, JobSink, SetupOptions, SystemTarget } from './types';

/** Jobs are spread over this many accounts (enqueued with an explicit `accountId`). */
const ACCOUNTS = 10;
const POOL_SIZE = 10;

/**
 * For tuning experiments only: `BENCH_OURS_WORKER='{"prefetch":490}'` merges these into the worker options
 * (the report's configuration line shows them). Unset for the published figures.
 */
export const WORKER_OVERRIDES_ENV = 'BENCH_OURS_WORKER';

function workerOverrides(): Record<string, unknown> {
  const raw = process.env[WORKER_OVERRIDES_ENV];
  return raw ? (JSON.parse(raw) as Record<string, unknown>) : {};
}

export class NoopPayload {
  @IsInt()
  n!: number;
}

const SINK = Symbol('BENCH_SINK');

/** Where the handler reports; the adapter points `sink` at the current phase's counter. */
interface SinkHolder {
  sink: JobSink;
}

@Job({ name: 'bench.noop', payload: NoopPayload })
export class NoopJob implements JobHandler<NoopPayload> {
  constructor(@Inject(SINK) private readonly holder: SinkHolder) {}

  perform(payload: NoopPayload): void {
    this.holder.sink(payload.n);
  }
}

@Module({})
class BenchAppModule {
  static register(
    target: SystemTarget,
    concurrency: number,
    holder: SinkHolder,
    mode: OursMode,
  ): DynamicModule {
    const url = target.databaseUrl;
    return {
      module: BenchAppModule,
      imports: [
        ClsModule.forRoot({ global: true }),
        TypeOrmModule.forRoot({ type: 'postgres', url, extra: { max: POOL_SIZE } }),
        JobsModule.forRoot({
          runMigrations: true,
          tenant: { clsKey: 'accountId' },
          ...(mode === 'direct'
            ? {}
            : {
                database: { pooler: 'transaction' as const },
                ...(mode === 'pgbouncer' ? { listen: target.directUrl } : {}),
              }),
          // Started explicitly (after the prefill in the drain phase).
          worker: { ...workerOverrides(), enabled: false, concurrency },
        }),
      ],
      providers: [{ provide: SINK, useValue: holder }, NoopJob],
    };
  }
}

/**
 * `direct`: the benchmark server; `pgbouncer`: through PgBouncer in transaction mode with LISTEN on the
 * direct URL; `pgbouncer-poll`: through PgBouncer, no LISTEN (the worker polls, 250 ms by default).
 */
export type OursMode = 'direct' | 'pgbouncer' | 'pgbouncer-poll';

export class OursSystem implements BenchSystem {
  private app: INestApplicationContext | undefined;
  private jobs!: JobQueueService;
  private readonly holder: SinkHolder = { sink: () => undefined };
  private unregisterOtel: (() => Promise<void>) | undefined;

  constructor(private readonly mode: OursMode = 'direct') {}

  async setup(target: SystemTarget, { concurrency }: SetupOptions): Promise<void> {
    this.unregisterOtel = registerBenchOtel();
    this.app = await NestFactory.createApplicationContext(
      BenchAppModule.register(target, concurrency, this.holder, this.mode),
      { logger: ['error', 'warn'] },
    );
    this.jobs = this.app.get(JobQueueService);
  }

  async enqueueOne(n: number): Promise<void> {
    await this.jobs.performLater(NoopJob, { n }, { accountId: account(n) });
  }

  async enqueueBulk(ns: readonly number[]): Promise<void> {
    await this.jobs.performAllLater(
      NoopJob,
      ns.map((n) => ({ payload: { n }, accountId: account(n) })),
    );
  }

  async startWorkers(sink: JobSink): Promise<void> {
    this.holder.sink = sink;
    await this.requireApp().get(JobWorker).start();
  }

  async stop(): Promise<void> {
    await this.app?.get(JobWorker).stop();
  }

  async teardown(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
    await this.unregisterOtel?.();
    this.unregisterOtel = undefined;
  }

  private requireApp(): INestApplicationContext {
    if (!this.app) throw new Error('setup() first');
    return this.app;
  }
}

function account(n: number): string {
  return `acct-${n % ACCOUNTS}`;
}
