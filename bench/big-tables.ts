/**
 * Big tables (BENCHMARK.md item 7, issue 16 target 4), PostgreSQL-backed systems only:
 *
 * - `--huge`: drain a 1,000,000-job backlog and, in the same run, a 20,000-job one; the ratio of the two
 *   rates is the figure (target: >= 0.9).
 * - `--history <rows>`: enqueue (one at a time and bulk) and drain on an empty table and on a table that
 *   already holds `rows` finished jobs (target: within 10%). Ours gets completed/failed/cancelled rows
 *   (`fillOursHistory`); graphile-worker deletes a job when it completes, so its history is the same
 *   number of permanently failed jobs (`fillGraphileHistory`). The history is written once per system and
 *   each run's phases reuse it (their own jobs are removed between phases). Then, ours only, the
 *   retention sweep: a backlog drains while the worker's sweep deletes the expired part of the history
 *   (completed and cancelled rows older than the default 1 day); every claim and every sweep batch is
 *   timed in the worker, and the report gives the sweep's rate and the claim latency during the sweep.
 */
import { DynamicModule, INestApplicationContext, Inject, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { ClsModule } from 'nestjs-cls';
import { performance } from 'node:perf_hooks';
import { Job, JobHandler, JobQueueService, JobsModule, JobWorker } from 'nestjs-tenant-jobs';
import {
  drainOn,
  DrainResult,
  enqueueOn,
  measureDrain,
  measureEnqueue,
  PhaseConfig,
} from './phases';
import {
  createScratchDatabase,
  databaseBytes,
  fillGraphileHistory,
  fillOursHistory,
  ScratchDatabase,
  withClient,
} from './support/database';
import { median as medianOrNull, percentile } from './support/stats';
import { NoopPayload } from './systems/ours';
import type { SystemSpec, SystemTarget } from './systems/types';

type Log = (message: string) => void;

const median = (values: readonly number[]): number => medianOrNull(values) ?? Number.NaN;
/** A percentile, NaN for an empty sample (a sweep so short that no claim overlapped it). */
const pct = (values: readonly number[], p: number): number =>
  values.length ? percentile(values, p) : Number.NaN;
const max = (values: readonly number[]): number =>
  values.length ? Math.max(...values) : Number.NaN;

/** `--huge`: one system's drains, 20,000 and 1,000,000 jobs, each run. */
export interface HugeRow {
  id: string;
  label: string;
  drainSmall: number[];
  drainHuge: number[];
  rssMbHuge: number[];
  commitsPerJobHuge: Array<number | null>;
  workerCpuMsPerJobHuge: number[];
}

const SMALL_DRAIN = 20_000;
export const HUGE_DRAIN = 1_000_000;

export async function measureHuge(
  systems: readonly SystemSpec[],
  phase: PhaseConfig,
  runs: number,
  log: Log,
): Promise<HugeRow[]> {
  const rows = systems.map((s): HugeRow => ({
    id: s.id,
    label: s.label,
    drainSmall: [],
    drainHuge: [],
    rssMbHuge: [],
    commitsPerJobHuge: [],
    workerCpuMsPerJobHuge: [],
  }));
  for (let run = 1; run <= runs; run++) {
    for (const [i, spec] of systems.entries()) {
      const small = await measureDrain(spec, { ...phase, drainN: SMALL_DRAIN }, 1);
      const huge = await measureDrain(spec, { ...phase, drainN: HUGE_DRAIN }, 1);
      const row = rows[i];
      row.drainSmall.push(small.jobsPerSec);
      row.drainHuge.push(huge.jobsPerSec);
      row.rssMbHuge.push(huge.maxRssMb);
      row.commitsPerJobHuge.push(huge.commitsPerJob);
      row.workerCpuMsPerJobHuge.push(huge.workerCpuMsPerJob);
      log(
        `huge run ${run}: ${spec.id}: drain ${SMALL_DRAIN}: ${Math.round(small.jobsPerSec)}/s, ` +
          `${HUGE_DRAIN}: ${Math.round(huge.jobsPerSec)}/s (${(huge.jobsPerSec / small.jobsPerSec).toFixed(2)}x), ` +
          `${huge.maxRssMb.toFixed(0)} MiB, ${huge.commitsPerJob?.toFixed(3) ?? '—'} commits/job`,
      );
    }
  }
  return rows;
}

export function renderHuge(rows: readonly HugeRow[], runs: number): string {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  return [
    `## Drain of a ${n(HUGE_DRAIN)}-job backlog (1 process, concurrency 10, median of ${runs})`,
    '',
    `| System | Drain ${n(SMALL_DRAIN)} (jobs/s) | Drain ${n(HUGE_DRAIN)} (jobs/s) | Ratio | Peak RSS (MiB) | Commits/job | Worker CPU/job (ms) |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => {
      const small = median(r.drainSmall);
      const huge = median(r.drainHuge);
      const commits = r.commitsPerJobHuge.filter((c): c is number => c !== null);
      return (
        `| ${r.label} | ${n(small)} | ${n(huge)} | ${(huge / small).toFixed(2)}x | ` +
        `${median(r.rssMbHuge).toFixed(0)} | ${commits.length ? median(commits).toFixed(3) : '—'} | ` +
        `${median(r.workerCpuMsPerJobHuge).toFixed(3)} |`
      );
    }),
  ].join('\n');
}

/** `--history`: one system, empty table vs a table with the history, each run. */
export interface HistoryRow {
  id: string;
  label: string;
  historyRows: number;
  /** What the history is for this system. */
  history: string;
  fillSeconds: number;
  databaseGiB: number;
  empty: { enqueueOne: number[]; enqueueBulk: number[]; drain: number[] };
  full: { enqueueOne: number[]; enqueueBulk: number[]; drain: number[] };
}

/** The retention sweep under a drain (ours). */
export interface SweepResult {
  backlog: number;
  batchSize: number;
  deleted: number;
  batches: number;
  seconds: number;
  rowsPerSec: number;
  batchMsP50: number;
  batchMsMax: number;
  claimsDuringSweep: number;
  claimMsP50: number;
  claimMsP99: number;
  claimMsMax: number;
  claimsOutsideSweep: number;
  claimMsOutsideP50: number | null;
  claimMsOutsideMax: number | null;
  drainDuringSweepJobsPerSec: number;
}

export async function measureHistory(
  systems: readonly SystemSpec[],
  phase: PhaseConfig,
  runs: number,
  historyRows: number,
  log: Log,
): Promise<{ rows: HistoryRow[]; sweep: SweepResult | null }> {
  const rows: HistoryRow[] = [];
  let sweep: SweepResult | null = null;
  for (const spec of systems) {
    const row: HistoryRow = {
      id: spec.id,
      label: spec.label,
      historyRows,
      history:
        spec.id === 'ours' ? 'completed 80% / failed 15% / cancelled 5%' : 'permanently failed',
      fillSeconds: 0,
      databaseGiB: 0,
      empty: { enqueueOne: [], enqueueBulk: [], drain: [] },
      full: { enqueueOne: [], enqueueBulk: [], drain: [] },
    };
    rows.push(row);
    const db = await createScratchDatabase(`${phase.tag}_${spec.id.replace(/-/g, '_')}_history`);
    try {
      const target: SystemTarget = { databaseUrl: db.url, queueName: db.name };
      await migrate(spec, target);
      row.fillSeconds =
        spec.id === 'ours'
          ? await fillOursHistory(db.url, { rows: historyRows })
          : await fillGraphileHistory(db.url, { rows: historyRows }, 'noop');
      row.databaseGiB = (await databaseBytes(db.name)) / 2 ** 30;
      log(
        `history: ${spec.id}: ${historyRows} rows written in ${row.fillSeconds.toFixed(0)} s ` +
          `(database ${row.databaseGiB.toFixed(2)} GiB)`,
      );
      for (let run = 1; run <= runs; run++) {
        const emptyEnqueue = await measureEnqueue(spec, phase);
        const emptyDrain = await measureDrain(spec, phase, 1);
        const fullEnqueue = await enqueueOn(spec, phase, target);
        await removeUnfinished(spec, db);
        const fullDrain: DrainResult = await drainOn(spec, phase, 1, target, db);
        await removeUnfinished(spec, db);
        row.empty.enqueueOne.push(emptyEnqueue.oneJobsPerSec);
        row.empty.enqueueBulk.push(emptyEnqueue.bulkJobsPerSec);
        row.empty.drain.push(emptyDrain.jobsPerSec);
        row.full.enqueueOne.push(fullEnqueue.oneJobsPerSec);
        row.full.enqueueBulk.push(fullEnqueue.bulkJobsPerSec);
        row.full.drain.push(fullDrain.jobsPerSec);
        const r = (v: number) => Math.round(v);
        log(
          `history run ${run}: ${spec.id}: enqueue one ${r(emptyEnqueue.oneJobsPerSec)} -> ` +
            `${r(fullEnqueue.oneJobsPerSec)}/s, bulk ${r(emptyEnqueue.bulkJobsPerSec)} -> ` +
            `${r(fullEnqueue.bulkJobsPerSec)}/s, drain ${r(emptyDrain.jobsPerSec)} -> ${r(fullDrain.jobsPerSec)}/s`,
        );
      }
      if (spec.id === 'ours') sweep = await measureSweep(db, log);
    } finally {
      await db.drop();
    }
  }
  return { rows, sweep };
}

/** Runs the system's migrations on `target` (a producer's setup), then closes it. */
async function migrate(spec: SystemSpec, target: SystemTarget): Promise<void> {
  const system = await spec.create();
  try {
    await system.setup(target, { role: 'producer', concurrency: spec.concurrency });
  } finally {
    await system.teardown();
  }
}

/** Deletes the jobs a phase left (everything but the history), then `vacuum analyze`. */
async function removeUnfinished(spec: SystemSpec, db: ScratchDatabase): Promise<void> {
  await withClient(db.url, async (c) => {
    if (spec.id === 'ours') {
      await c.query(
        `delete from jobs.jobs where state not in ('completed', 'failed', 'cancelled')
           or (state = 'completed' and not (payload ? 'orderId'))`,
      );
      await c.query('vacuum analyze jobs.jobs');
    } else {
      await c.query(`delete from graphile_worker._private_jobs where attempts < max_attempts`);
      await c.query('vacuum analyze graphile_worker._private_jobs');
    }
  });
}

const SWEEP_BACKLOG = Number(process.env.BENCH_SWEEP_BACKLOG ?? 500_000);
const SWEEP_BATCH = 5_000;
const SWEEP_SINK = Symbol('SWEEP_SINK');

@Job({ name: 'bench.noop', payload: NoopPayload })
class SweepNoopJob implements JobHandler<NoopPayload> {
  constructor(@Inject(SWEEP_SINK) private readonly sink: { count: number }) {}
  perform(): void {
    this.sink.count++;
  }
}

@Module({})
class SweepModule {
  static register(url: string, sink: { count: number }): DynamicModule {
    return {
      module: SweepModule,
      imports: [
        ClsModule.forRoot({ global: true }),
        TypeOrmModule.forRoot({ type: 'postgres', url, extra: { max: 10 } }),
        JobsModule.forRoot({
          runMigrations: true,
          tenant: { clsKey: 'accountId' },
          worker: { enabled: false, concurrency: 10 },
          // The default ages (completed and cancelled 1 day, failed 30 days); the first sweep soon.
          retention: { intervalMs: 1_000, batchSize: SWEEP_BATCH },
        }),
      ],
      providers: [{ provide: SWEEP_SINK, useValue: sink }, SweepNoopJob],
    };
  }
}

interface Timed {
  at: number;
  ms: number;
  rows: number;
}

type QueryFn = (
  this: unknown,
  text: string,
  values: unknown[],
  options?: { name?: string },
) => Promise<unknown[]>;

/**
 * Times every claim and every sweep batch of this process's worker by wrapping the library's database
 * door from the outside (as `--diagnose` does); returns the records and a function that unwraps it.
 */
async function timeStatements(): Promise<{
  claims: Timed[];
  purges: Timed[];
  restore: () => void;
}> {
  const { JobsDatabase } = await import('nestjs-tenant-jobs/persistence/jobs-database');
  const proto = JobsDatabase.prototype as unknown as { query: QueryFn };
  const original = proto.query;
  const claims: Timed[] = [];
  const purges: Timed[] = [];
  proto.query = async function (text, values, options = {}) {
    const at = performance.now();
    const rows = await original.call(this, text, values, options);
    const ms = performance.now() - at;
    const name = options.name ?? '';
    if (name.endsWith('.claim')) claims.push({ at, ms, rows: rows.length });
    else if (name.endsWith('.purge'))
      purges.push({ at, ms, rows: (rows[0] as { deleted: number }).deleted });
    return rows;
  };
  return { claims, purges, restore: () => (proto.query = original) };
}

/**
 * The sweep under a drain: `SWEEP_BACKLOG` jobs enqueued, then the worker started (in this process,
 * concurrency 10); its first sweep starts a second later and deletes the expired history while the
 * backlog drains. Ends when the backlog is done and no batch has deleted anything for 3 s.
 */
async function measureSweep(db: ScratchDatabase, log: Log): Promise<SweepResult> {
  const sink = { count: 0 };
  const timing = await timeStatements();
  let app: INestApplicationContext | undefined;
  try {
    app = await NestFactory.createApplicationContext(SweepModule.register(db.url, sink), {
      logger: ['error', 'warn'],
    });
    const jobs = app.get(JobQueueService);
    for (let at = 0; at < SWEEP_BACKLOG; at += 1_000) {
      await jobs.performAllLater(
        SweepNoopJob,
        Array.from({ length: 1_000 }, (_, i) => ({
          payload: { n: at + i },
          accountId: `acct-${(at + i) % 10}`,
        })),
      );
    }
    log(`sweep: ${SWEEP_BACKLOG} jobs enqueued; starting the worker`);
    const startedAt = performance.now();
    await app.get(JobWorker).start();
    const lastDeleting = () => timing.purges.filter((p) => p.rows > 0).pop();
    for (;;) {
      await new Promise((resolve) => setTimeout(resolve, 200));
      const last = lastDeleting();
      if (sink.count >= SWEEP_BACKLOG && last && performance.now() - (last.at + last.ms) > 3_000)
        break;
      if (performance.now() - startedAt > 1_800_000) throw new Error('sweep: timed out');
    }
    await app.get(JobWorker).stop();
  } finally {
    await app?.close();
    timing.restore();
  }
  // The first sweep: its batches up to the first pause between batches (the next sweep starts an
  // interval later and deletes only what expired meanwhile).
  const start = timing.purges.findIndex((p) => p.rows > 0);
  let end = start;
  while (
    end + 1 < timing.purges.length &&
    timing.purges[end + 1].at - (timing.purges[end].at + timing.purges[end].ms) < 500
  )
    end++;
  const deleting = timing.purges.slice(start, end + 1);
  const from = deleting[0].at;
  const to = deleting[deleting.length - 1].at + deleting[deleting.length - 1].ms;
  const during = timing.claims.filter((c) => c.at + c.ms >= from && c.at <= to);
  const outside = timing.claims.filter((c) => !(c.at + c.ms >= from && c.at <= to));
  const deleted = deleting.reduce((s, p) => s + p.rows, 0);
  const seconds = (to - from) / 1000;
  const performedDuring = during.reduce((s, c) => s + c.rows, 0);
  const ms = (xs: Timed[]) => xs.map((x) => x.ms);
  const result: SweepResult = {
    backlog: SWEEP_BACKLOG,
    batchSize: SWEEP_BATCH,
    deleted,
    batches: deleting.length,
    seconds,
    rowsPerSec: deleted / seconds,
    batchMsP50: pct(ms(deleting), 50),
    batchMsMax: max(ms(deleting)),
    claimsDuringSweep: during.length,
    claimMsP50: pct(ms(during), 50),
    claimMsP99: pct(ms(during), 99),
    claimMsMax: max(ms(during)),
    claimsOutsideSweep: outside.length,
    claimMsOutsideP50: outside.length ? pct(ms(outside), 50) : null,
    claimMsOutsideMax: outside.length ? max(ms(outside)) : null,
    drainDuringSweepJobsPerSec: performedDuring / seconds,
  };
  log(`sweep: ${JSON.stringify(result)}`);
  if (process.env.BENCH_SWEEP_TIMELINE)
    log(
      `sweep batches (s from start, ms, rows): ${timing.purges
        .map((p) => `${((p.at - from) / 1000).toFixed(2)}/${p.ms.toFixed(0)}/${p.rows}`)
        .join(' ')}`,
    );
  return result;
}

export function renderHistory(
  rows: readonly HistoryRow[],
  sweep: SweepResult | null,
  runs: number,
): string {
  const n = (v: number) => Math.round(v).toLocaleString('en-US');
  const ratio = (full: number[], empty: number[]) => (median(full) / median(empty)).toFixed(2);
  const lines = [
    `## Enqueue and drain with ${n(rows[0]?.historyRows ?? 0)} finished rows in the table (median of ${runs})`,
    '',
    '| System | History | Enqueue one (jobs/s) empty → history | Ratio | Bulk (jobs/s) empty → history | Ratio | Drain 20,000 (jobs/s) empty → history | Ratio |',
    '| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) =>
        `| ${r.label} | ${r.history} (${r.databaseGiB.toFixed(1)} GiB, written in ${r.fillSeconds.toFixed(0)} s) | ` +
        `${n(median(r.empty.enqueueOne))} → ${n(median(r.full.enqueueOne))} | ${ratio(r.full.enqueueOne, r.empty.enqueueOne)}x | ` +
        `${n(median(r.empty.enqueueBulk))} → ${n(median(r.full.enqueueBulk))} | ${ratio(r.full.enqueueBulk, r.empty.enqueueBulk)}x | ` +
        `${n(median(r.empty.drain))} → ${n(median(r.full.drain))} | ${ratio(r.full.drain, r.empty.drain)}x |`,
    ),
  ];
  if (sweep) {
    const f = (v: number | null) => (v === null ? '–' : v.toFixed(2));
    lines.push(
      '',
      `## Retention sweep of the expired history during a drain (ours, batch ${n(sweep.batchSize)})`,
      '',
      '| Rows deleted | Batches | Seconds | Rows/s | Batch ms p50 / max | Claims during sweep | Claim ms p50 / p99 / max | Claims outside sweep, ms p50 / max | Drain during sweep (jobs/s) |',
      '| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
      `| ${n(sweep.deleted)} | ${n(sweep.batches)} | ${sweep.seconds.toFixed(1)} | ${n(sweep.rowsPerSec)} | ` +
        `${f(sweep.batchMsP50)} / ${f(sweep.batchMsMax)} | ${n(sweep.claimsDuringSweep)} | ` +
        `${f(sweep.claimMsP50)} / ${f(sweep.claimMsP99)} / ${f(sweep.claimMsMax)} | ` +
        `${n(sweep.claimsOutsideSweep)}: ${f(sweep.claimMsOutsideP50)} / ${f(sweep.claimMsOutsideMax)} | ` +
        `${n(sweep.drainDuringSweepJobsPerSec)} |`,
    );
  }
  return lines.join('\n');
}
