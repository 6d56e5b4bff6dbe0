/**
 * The noisy-neighbour scenario (issue 14, `npm run bench -- --scenarios noisy`), ours only so far:
 * (a) one account with a backlog (`drainN`: 20,000, 100,000 with `--large`), then, once the worker is
 *     working on it, 10 small accounts x 100 jobs: the small jobs' wait (enqueue -> start) p50/p95/max
 *     and the total drain rate, fairness on vs off;
 * (b) a drain of 20,000 jobs spread over 100 accounts, fairness on vs off (target: on >= 0.8x off).
 * One process, concurrency 10, the library's defaults otherwise.
 */
import { DynamicModule, INestApplicationContext, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { performance } from 'node:perf_hooks';
import {
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
  JobsModule,
  JobWorker,
} from 'nestjs-tenant-jobs';
import { createScratchDatabase } from './support/database';
import { percentile } from './support/stats';
import { NoopPayload } from './systems/ours';

const SINK = Symbol('NOISY_SINK');
type Sink = { start: (n: number, account: string | null) => void };

@Job({ name: 'bench.noisy', payload: NoopPayload })
class NoisyJob implements JobHandler<NoopPayload> {
  constructor(@Inject(SINK) private readonly sink: Sink) {}
  perform(payload: NoopPayload, ctx: JobContext): void {
    this.sink.start(payload.n, ctx.accountId);
  }
}

@Module({})
class NoisyModule {
  static register(url: string, fairness: 'account' | false, sink: Sink): DynamicModule {
    return {
      module: NoisyModule,
      imports: [
        ClsModule.forRoot({ global: true }),
        TypeOrmModule.forRoot({ type: 'postgres', url, extra: { max: 10 } }),
        JobsModule.forRoot({
          runMigrations: true,
          tenant: { clsKey: 'accountId' },
          worker: { enabled: false, concurrency: 10, fairness },
        }),
      ],
      providers: [{ provide: SINK, useValue: sink }, NoisyJob],
    };
  }
}

/** One row of the scenario's table. */
export interface NoisyResult {
  scenario: 'noisy' | 'spread';
  fairness: 'on' | 'off';
  backlog: number;
  /** Small accounts' wait, enqueue -> start, ms (scenario `noisy` only). */
  waitP50Ms: number | null;
  waitP95Ms: number | null;
  waitMaxMs: number | null;
  /** The big account's jobs still waiting when the last small job started (scenario `noisy`). */
  backlogLeftAtLastSmall: number | null;
  drainJobsPerSec: number;
}

const SMALL_ACCOUNTS = 10;
const SMALL_JOBS = 100;

async function withApp<T>(
  tag: string,
  fairness: 'account' | false,
  sink: Sink,
  fn: (jobs: JobQueueService, worker: JobWorker) => Promise<T>,
): Promise<T> {
  const db = await createScratchDatabase(`${tag}_noisy_${Date.now().toString(36)}`);
  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(NoisyModule.register(db.url, fairness, sink), {
      logger: ['error', 'warn'],
    });
    return await fn(app.get(JobQueueService), app.get(JobWorker));
  } finally {
    await app?.close();
    await db.drop();
  }
}

async function enqueue(
  jobs: JobQueueService,
  from: number,
  count: number,
  account: (n: number) => string,
) {
  for (let at = from; at < from + count; at += 1_000) {
    const ns = Array.from({ length: Math.min(1_000, from + count - at) }, (_, i) => at + i);
    await jobs.performAllLater(
      NoisyJob,
      ns.map((n) => ({ payload: { n }, accountId: account(n) })),
    );
  }
}

/** (a): the backlog of one account, then the small accounts once it is draining. */
export async function measureNoisy(
  tag: string,
  backlog: number,
  fair: boolean,
): Promise<NoisyResult> {
  const total = backlog + SMALL_ACCOUNTS * SMALL_JOBS;
  const enqueuedAt = new Map<number, number>();
  const waits: number[] = [];
  let started = 0;
  let bigStarted = 0;
  let backlogLeft = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const sink: Sink = {
    start: (n, account) => {
      started++;
      if (account === 'big') bigStarted++;
      else {
        waits.push(performance.now() - (enqueuedAt.get(n) ?? Number.NaN));
        if (waits.length === SMALL_ACCOUNTS * SMALL_JOBS) backlogLeft = backlog - bigStarted;
      }
      if (started === total) done();
    },
  };
  return withApp(tag, fair ? 'account' : false, sink, async (jobs, worker) => {
    await enqueue(jobs, 0, backlog, () => 'big');
    const t0 = performance.now();
    await worker.start();
    while (bigStarted < 500) await new Promise((resolve) => setTimeout(resolve, 5));
    for (let a = 0; a < SMALL_ACCOUNTS; a++) {
      const from = backlog + a * SMALL_JOBS;
      const at = performance.now();
      for (let i = 0; i < SMALL_JOBS; i++) enqueuedAt.set(from + i, at);
      await enqueue(jobs, from, SMALL_JOBS, () => `small-${a}`);
    }
    await finished;
    const elapsed = (performance.now() - t0) / 1000;
    return {
      scenario: 'noisy',
      fairness: fair ? 'on' : 'off',
      backlog,
      waitP50Ms: percentile(waits, 50),
      waitP95Ms: percentile(waits, 95),
      waitMaxMs: Math.max(...waits),
      backlogLeftAtLastSmall: backlogLeft,
      drainJobsPerSec: total / elapsed,
    };
  });
}

/** (b): a drain of `count` jobs spread over 100 accounts. */
export async function measureSpread(
  tag: string,
  count: number,
  fair: boolean,
): Promise<NoisyResult> {
  let started = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const sink: Sink = { start: () => void (++started === count && done()) };
  return withApp(tag, fair ? 'account' : false, sink, async (jobs, worker) => {
    await enqueue(jobs, 0, count, (n) => `acct-${n % 100}`);
    const t0 = performance.now();
    await worker.start();
    await finished;
    return {
      scenario: 'spread',
      fairness: fair ? 'on' : 'off',
      backlog: count,
      waitP50Ms: null,
      waitP95Ms: null,
      waitMaxMs: null,
      backlogLeftAtLastSmall: null,
      drainJobsPerSec: count / ((performance.now() - t0) / 1000),
    };
  });
}

/** The scenario's markdown table. */
export function renderNoisy(rows: readonly NoisyResult[]): string {
  const ms = (v: number | null) => (v === null ? '–' : `${Math.round(v)}`);
  const lines = [
    '## Noisy neighbour (ours, 1 process, concurrency 10)',
    '',
    '| Scenario | Fairness | Backlog | Small wait p50 ms | p95 ms | max ms | Backlog left at last small start | Drain jobs/s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.fairness} | ${r.backlog} | ${ms(r.waitP50Ms)} | ${ms(r.waitP95Ms)} | ` +
        `${ms(r.waitMaxMs)} | ${r.backlogLeftAtLastSmall ?? '–'} | ${Math.round(r.drainJobsPerSec)} |`,
    ),
  ];
  return lines.join('\n');
}
