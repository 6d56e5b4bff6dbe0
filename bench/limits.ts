/**
 * The limits scenarios (issue 14, item 5c; `npm run bench -- --scenarios limits`), ours only:
 *
 * (c) a per-account concurrency limit of 2 (`flow.accountConcurrency: 2`) across 3 worker processes
 *     (concurrency 10 each) draining 50 accounts x 200 jobs of 5 ms: the most jobs of one account running
 *     at once, sampled from the database every 20 ms (`running` with a live lease) and exact from the
 *     handlers' own start/end times; and the drain rate, against the same drain with no limit.
 * (d) jobs without a limit behind a backlog of limited ones: 20,000 jobs of one account on a queue with
 *     `accountConcurrency: 1` are enqueued first, then 1,000 global jobs without a limit; their wait
 *     (enqueue -> start) p50/p95/max and drain rate, against the same 1,000 on an empty database.
 *
 * Worker processes are this file forked with `--limits-worker` (IPC: `ready`, `start`, `stop` -> their
 * runs' start/end times).
 */
import './support/paths'; // first: registers the nestjs-tenant-jobs alias
import { DynamicModule, INestApplicationContext, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { ChildProcess, fork } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { Pool } from 'pg';
import {
  FlowOptions,
  Job,
  JobContext,
  JobHandler,
  JobQueueService,
  JobsModule,
  JobWorker,
} from 'nestjs-tenant-jobs';
import { createScratchDatabase } from './support/database';
import { percentile, sleep, wallClockMs } from './support/stats';
import { NoopPayload } from './systems/ours';

const SINK = Symbol('LIMITS_SINK');
type Sink = { start(account: string | null): void; end(account: string | null, at: number): void };

/** A job of 5 ms (or none, `n < 0`), reporting its start and end. */
@Job({ name: 'bench.limited', payload: NoopPayload })
class LimitedJob implements JobHandler<NoopPayload> {
  constructor(@Inject(SINK) private readonly sink: Sink) {}
  async perform(payload: NoopPayload, ctx: JobContext): Promise<void> {
    const at = wallClockMs();
    this.sink.start(ctx.accountId);
    if (payload.n >= 0) await sleep(5);
    this.sink.end(ctx.accountId, at);
  }
}

/** The same with no account, for (d). */
@Job({ name: 'bench.unlimited', payload: NoopPayload, tenant: 'none' })
class GlobalJob implements JobHandler<NoopPayload> {
  constructor(@Inject(SINK) private readonly sink: Sink) {}
  perform(): void {
    this.sink.start(null);
  }
}

@Module({})
class LimitsModule {
  static register(url: string, flow: FlowOptions | undefined, sink: Sink): DynamicModule {
    return {
      module: LimitsModule,
      imports: [
        ClsModule.forRoot({ global: true }),
        TypeOrmModule.forRoot({ type: 'postgres', url, extra: { max: 10 } }),
        JobsModule.forRoot({
          runMigrations: true,
          tenant: { clsKey: 'accountId' },
          flow,
          worker: { enabled: false, concurrency: 10 },
          retention: false,
        }),
      ],
      providers: [{ provide: SINK, useValue: sink }, LimitedJob, GlobalJob],
    };
  }
}

async function createApp(url: string, flow: FlowOptions | undefined, sink: Sink) {
  return NestFactory.createApplicationContext(LimitsModule.register(url, flow, sink), {
    logger: ['error', 'warn'],
  });
}

const NO_SINK: Sink = { start: () => undefined, end: () => undefined };

/** One row of the scenario's table. */
export interface LimitsResult {
  scenario: 'account-limit' | 'unlimited-behind-backlog';
  variant: string;
  jobs: number;
  processes: number;
  /** (c): most running jobs of one account, sampled from the database / exact from the handlers. */
  maxRunningSampled: number | null;
  maxRunningObserved: number | null;
  /** (d): the unlimited jobs' wait, enqueue -> start, ms. */
  waitP50Ms: number | null;
  waitP95Ms: number | null;
  waitMaxMs: number | null;
  jobsPerSec: number;
}

const ACCOUNTS = 50;
const PER_ACCOUNT = 200;
const PROCESSES = 3;

async function enqueue(jobs: JobQueueService, count: number, account: (n: number) => string) {
  for (let at = 0; at < count; at += 1_000) {
    const ns = Array.from({ length: Math.min(1_000, count - at) }, (_, i) => at + i);
    await jobs.performAllLater(
      LimitedJob,
      ns.map((n) => ({ payload: { n }, accountId: account(n) })),
    );
  }
}

/** (c): 3 worker processes drain 50 x 200 jobs, with `accountConcurrency: limit` or no limit. */
export async function measureAccountLimit(
  tag: string,
  limit: number | undefined,
): Promise<LimitsResult> {
  const db = await createScratchDatabase(`${tag}_limits_${Date.now().toString(36)}`);
  const flow = limit === undefined ? undefined : { accountConcurrency: limit };
  const children: LimitsChild[] = [];
  const pool = new Pool({ connectionString: db.url, max: 1 });
  let app: INestApplicationContext | undefined;
  try {
    app = await createApp(db.url, flow, NO_SINK);
    const total = ACCOUNTS * PER_ACCOUNT;
    await enqueue(app.get(JobQueueService), total, (n) => `acct-${n % ACCOUNTS}`);
    for (let i = 0; i < PROCESSES; i++) children.push(new LimitsChild(db.url, flow));
    await Promise.all(children.map((c) => c.ready));
    const t0 = performance.now();
    for (const c of children) c.send({ type: 'start' });
    let sampled = 0;
    while (children.reduce((n, c) => n + c.count, 0) < total) {
      const { rows } = await pool.query<{ n: number }>(
        `select coalesce(max(n), 0)::int as n from (
           select count(*) as n from jobs.jobs
           where state = 'running' and locked_until > now() group by account_id) r`,
      );
      sampled = Math.max(sampled, rows[0].n);
      for (const c of children) c.check();
      await sleep(20);
    }
    const elapsed = (performance.now() - t0) / 1000;
    const runs = (await Promise.all(children.map((c) => c.stop()))).flat();
    return {
      scenario: 'account-limit',
      variant: limit === undefined ? 'no limit' : `accountConcurrency: ${limit}`,
      jobs: total,
      processes: PROCESSES,
      maxRunningSampled: sampled,
      maxRunningObserved: maxOverlap(runs),
      waitP50Ms: null,
      waitP95Ms: null,
      waitMaxMs: null,
      jobsPerSec: total / elapsed,
    };
  } finally {
    for (const c of children) c.kill();
    await app?.close();
    await pool.end();
    await db.drop();
  }
}

/** (d): 1,000 unlimited jobs, behind 20,000 limited ones (`backlog`) or on an empty database. */
export async function measureBehindBacklog(tag: string, backlog: boolean): Promise<LimitsResult> {
  const db = await createScratchDatabase(`${tag}_limits_${Date.now().toString(36)}`);
  const count = 1_000;
  const waits: number[] = [];
  let enqueuedAt = 0;
  let done: () => void = () => undefined;
  const finished = new Promise<void>((resolve) => (done = resolve));
  const sink: Sink = {
    start: (account) => {
      if (account !== null) return;
      waits.push(performance.now() - enqueuedAt);
      if (waits.length === count) done();
    },
    end: () => undefined,
  };
  let app: INestApplicationContext | undefined;
  try {
    // Limits configured in both runs, so both use the limited claims: the backlog is the difference.
    app = await createApp(db.url, { queues: { imports: { accountConcurrency: 1 } } }, sink);
    const jobs = app.get(JobQueueService);
    if (backlog) {
      for (let at = 0; at < 20_000; at += 1_000) {
        await jobs.performAllLater(
          LimitedJob,
          Array.from({ length: 1_000 }, (_, i) => ({
            payload: { n: at + i },
            accountId: 'big',
            queue: 'imports',
          })),
        );
      }
    }
    await app.get(JobWorker).start();
    await sleep(500); // the backlog's one slot is busy, the worker's claims run past it
    enqueuedAt = performance.now();
    await jobs.performAllLater(
      GlobalJob,
      Array.from({ length: count }, (_, n) => ({ payload: { n } })),
    );
    await finished;
    return {
      scenario: 'unlimited-behind-backlog',
      variant: backlog ? '20,000 limited jobs ahead' : 'empty database',
      jobs: count,
      processes: 1,
      maxRunningSampled: null,
      maxRunningObserved: null,
      waitP50Ms: percentile(waits, 50),
      waitP95Ms: percentile(waits, 95),
      waitMaxMs: Math.max(...waits),
      jobsPerSec: count / ((performance.now() - enqueuedAt) / 1000),
    };
  } finally {
    await app?.close();
    await db.drop();
  }
}

/** The most runs of one account that overlapped, from their [start, end] times. */
function maxOverlap(runs: ReadonlyArray<[string, number, number]>): number {
  const byAccount = new Map<string, Array<[number, number]>>();
  for (const [account, start, end] of runs) {
    const list = byAccount.get(account) ?? [];
    list.push([start, 1], [end, -1]);
    byAccount.set(account, list);
  }
  let most = 0;
  for (const list of byAccount.values()) {
    list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let now = 0;
    for (const [, d] of list) most = Math.max(most, (now += d));
  }
  return most;
}

/** The scenario's markdown table. */
export function renderLimits(rows: readonly LimitsResult[]): string {
  const v = (x: number | null) => (x === null ? '–' : `${Math.round(x)}`);
  return [
    '## Concurrency limits (ours)',
    '',
    '| Scenario | Variant | Jobs | Processes | Max running per account (sampled / observed) | Wait p50 ms | p95 ms | max ms | Jobs/s |',
    '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows.map(
      (r) =>
        `| ${r.scenario} | ${r.variant} | ${r.jobs} | ${r.processes} | ` +
        `${r.maxRunningSampled === null ? '–' : `${r.maxRunningSampled} / ${r.maxRunningObserved}`} | ` +
        `${v(r.waitP50Ms)} | ${v(r.waitP95Ms)} | ${v(r.waitMaxMs)} | ${Math.round(r.jobsPerSec)} |`,
    ),
  ].join('\n');
}

type ToChild = { type: 'start' } | { type: 'stop' };
type ToParent =
  | { type: 'ready' }
  | { type: 'progress'; count: number }
  | { type: 'stopped'; runs: Array<[string, number, number]> }
  | { type: 'error'; message: string };

/** A forked worker process of (c), seen from the parent. */
class LimitsChild {
  count = 0;
  readonly ready: Promise<void>;
  private readonly child: ChildProcess;
  private runs: Array<[string, number, number]> | undefined;
  private failure: Error | undefined;

  constructor(url: string, flow: FlowOptions | undefined) {
    this.child = fork(__filename, ['--limits-worker', JSON.stringify({ url, flow })], {
      stdio: 'inherit',
    });
    let ready: () => void = () => undefined;
    this.ready = new Promise((resolve) => (ready = resolve));
    this.child.on('message', (m: ToParent) => {
      if (m.type === 'ready') ready();
      else if (m.type === 'progress') this.count = m.count;
      else if (m.type === 'stopped') this.runs = m.runs;
      else this.failure = new Error(`limits worker: ${m.message}`);
    });
    // Its last message may be handled after its exit: give it a moment before calling the exit a failure.
    this.child.once('exit', (code) =>
      setTimeout(() => {
        if (!this.runs) this.failure ??= new Error(`limits worker exited with code ${code}`);
      }, 500),
    );
  }

  send(message: ToChild): void {
    if (this.child.connected) this.child.send(message);
  }

  check(): void {
    if (this.failure) throw this.failure;
  }

  async stop(): Promise<Array<[string, number, number]>> {
    this.send({ type: 'stop' });
    while (!this.runs) {
      this.check();
      await sleep(10);
    }
    return this.runs;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }
}

/** The worker process of (c): a worker app reporting how many jobs it ran, then every run. */
async function child(): Promise<void> {
  const { url, flow } = JSON.parse(process.argv[3]) as { url: string; flow?: FlowOptions };
  const runs: Array<[string, number, number]> = [];
  const send = (m: ToParent) => process.send?.(m);
  const sink: Sink = {
    start: () => undefined,
    end: (account, at) => void runs.push([account ?? '', at, wallClockMs()]),
  };
  const app = await createApp(url, flow, sink);
  const progress = setInterval(() => send({ type: 'progress', count: runs.length }), 10);
  process.on('message', (m: ToChild) => {
    if (m.type === 'start') void app.get(JobWorker).start();
    else {
      clearInterval(progress);
      void app.close().then(() => {
        // Disconnect once the report is on its way: an exit right after `send` can drop it.
        process.send?.({ type: 'stopped', runs } satisfies ToParent, () => process.disconnect());
      });
    }
  });
  process.once('disconnect', () => setTimeout(() => process.exit(0), 1_000).unref());
  send({ type: 'ready' });
}

if (require.main === module && process.argv[2] === '--limits-worker') {
  child().catch((error: unknown) => {
    process.send?.({ type: 'error', message: String((error as Error)?.stack ?? error) });
    process.exit(1);
  });
}
