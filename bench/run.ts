/**
 * `npm run bench [-- flags]`: compares nest-tenant-jobs with graphile-worker, pg-boss and BullMQ on this
 * machine's PostgreSQL (BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/postgres) and Redis
 * (BENCH_REDIS_URL, default redis://127.0.0.1:6379), following shared/design/BENCHMARK.md. Progress goes
 * to stderr; the markdown report to stdout and bench/results/<date>.md (+ .json, + -ratios.png chart).
 *
 * Flags:
 *   --runs <n>        runs per figure, median reported (default 3)
 *   --quick           smoke test: 1 run, N = 5,000, fewer latency jobs, short ceiling
 *   --large           drain N = 200,000 (default 20,000)
 *   --systems a,b     only these systems (ids: see systems/index.ts; ours always included)
 *   --skip-scale      no 2- and 4-process drains
 *   --skip-ceiling    no pgbench ceiling
 *   --diagnose        count our library's statements and claim sizes in the 1-process drain
 *   --out <dir>       results directory (default bench/results)
 *   --pgbouncer       also run each PostgreSQL system through a PgBouncer (transaction mode) the bench
 *                     starts (Debian's pgbouncer), each beside its direct self; writes
 *                     bench/results/<date>-pgbouncer.md/.json
 *   --scenarios noisy only the noisy-neighbour scenario (noisy.ts): its table to stdout and
 *                     bench/results/<date>-noisy.md/.json; the backlog is 20,000 (100,000 with --large);
 *                     ours with fairness on and off, pg-boss with and without groupConcurrency
 *   --scenarios dashboard  only the dashboard's job list on a 1,000,000-row table (dashboard-list.ts,
 *                     --rows <n> to change; --runs defaults to 5 there): bench/results/<date>-dashboard.md
 *   --huge            only the big-backlog scenario (big-tables.ts): drains of 20,000 and 1,000,000 jobs
 *                     per PostgreSQL system, to bench/results/<date>-huge.md/.json
 *   --history <rows>  only the big-history scenario (big-tables.ts): enqueue and drain on an empty table
 *                     and on one holding <rows> finished jobs, then (ours) the retention sweep under a
 *                     drain, to bench/results/<date>-history.md/.json
 *   --scenarios limits only the concurrency-limit scenarios (limits.ts): their table to stdout and
 *                     bench/results/<date>-limits.md/.json
 */
import { REPO_ROOT } from './support/paths'; // first: registers the nestjs-tenant-jobs alias
import { mkdirSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { findPgbench, measureCeiling } from './ceiling';
import {
  measureConcurrentEnqueue,
  measureDrain,
  measureEnqueue,
  measureLatency,
  PhaseConfig,
} from './phases';
import {
  measureNoisyScenarios,
  NoisyResult,
  oursNoisy,
  PG_BOSS_GROUP_CONCURRENCY,
  pgBossNoisy,
  renderNoisy,
} from './noisy';
import { DashboardListResult, measureDashboardList, renderDashboardList } from './dashboard-list';
import { measureHistory, measureHuge, renderHistory, renderHuge } from './big-tables';
import { LimitsResult, measureAccountLimit, measureBehindBacklog, renderLimits } from './limits';
import {
  addSample,
  BenchConfigSummary,
  BenchResults,
  renderMarkdown,
  SystemResult,
} from './report';
import { writeRatioChart } from './chart';
import { benchDatabaseUrl, dropAllScratch } from './support/database';
import { describeEnvironment } from './support/environment';
import { deleteQueueKeys } from './support/redis';
import { startBenchPgBouncer, stopBenchPgBouncer } from './support/pgbouncer';
import { OURS, SYSTEMS, systemById, withPgBouncerVariants } from './systems';
import type { SystemSpec } from './systems/types';

const CEILING_CLIENTS = 2;
const CEILING_BATCH = 100;

interface Cli {
  config: BenchConfigSummary;
  systems: SystemSpec[];
  skipCeiling: boolean;
  outDir: string;
  /** Only these scenarios (`noisy`, `dashboard`); `undefined`: the standard phases. */
  scenarios: string[] | undefined;
  /** `--rows`: the dashboard scenario's table size. */
  rows: number;
  /** `--runs` as given (the dashboard scenario has its own default). */
  runsGiven: boolean;
  /** `--pgbouncer`: PgBouncer variants beside the direct systems. */
  pgbouncer: boolean;
  /** `--huge`: only the 1,000,000-job drain (big-tables.ts). */
  huge: boolean;
  /** `--history <rows>`: only the big-history scenario (big-tables.ts). */
  history: number | undefined;
}

function parseCli(argv: string[]): Cli {
  const { values } = parseArgs({
    args: argv,
    options: {
      runs: { type: 'string' },
      quick: { type: 'boolean', default: false },
      large: { type: 'boolean', default: false },
      systems: { type: 'string' },
      'skip-scale': { type: 'boolean', default: false },
      'skip-ceiling': { type: 'boolean', default: false },
      diagnose: { type: 'boolean', default: false },
      out: { type: 'string' },
      scenarios: { type: 'string' },
      rows: { type: 'string' },
      pgbouncer: { type: 'boolean', default: false },
      huge: { type: 'boolean', default: false },
      history: { type: 'string' },
    },
    strict: true,
  });
  const quick = values.quick ?? false;
  const large = values.large ?? false;
  const runs = values.runs !== undefined ? Number(values.runs) : quick ? 1 : 3;
  if (!Number.isInteger(runs) || runs < 1) throw new Error(`--runs must be a positive integer`);
  const ids = values.systems
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const chosen = ids ? [OURS, ...ids.filter((id) => id !== OURS)].map(systemById) : [...SYSTEMS];
  const pgbouncer = values.pgbouncer ?? false;
  const systems = pgbouncer ? withPgBouncerVariants(chosen) : chosen;
  const config: BenchConfigSummary = {
    runs,
    quick,
    large,
    enqueueOneN: quick ? 1_000 : 2_000,
    enqueueBulkN: quick ? 5_000 : 20_000,
    bulkBatch: 1_000,
    enqueueConcurrentN: quick ? 5_000 : 20_000,
    enqueueCallers: 50,
    drainN: large ? 200_000 : quick ? 5_000 : 20_000,
    latencyJobs: quick ? 50 : 200,
    scaleProcesses: values['skip-scale'] ? [1] : [1, 2, 4],
    ceilingSeconds: quick ? 3 : 10,
    diagnose: values.diagnose ?? false,
  };
  const history = values.history !== undefined ? Number(values.history) : undefined;
  if (history !== undefined && (!Number.isSafeInteger(history) || history < 1))
    throw new Error(`--history must be a positive integer (rows), got ${values.history}`);
  return {
    config,
    huge: values.huge ?? false,
    history,
    systems,
    skipCeiling: values['skip-ceiling'] ?? false,
    pgbouncer,
    outDir: resolve(REPO_ROOT, values.out ?? 'bench/results'),
    scenarios: values.scenarios?.split(',').map((s) => s.trim()),
    rows: values.rows !== undefined ? Number(values.rows) : 1_000_000,
    runsGiven: values.runs !== undefined,
  };
}

function log(message: string): void {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

async function main(): Promise<void> {
  const cli = parseCli(process.argv.slice(2));
  const { config } = cli;
  const tag = `bench_${Date.now().toString(36)}`;
  const phase: PhaseConfig = { ...config, tag };
  installCleanup(tag);
  if (cli.scenarios?.includes('noisy')) return runNoisy(cli, tag);
  if (cli.scenarios?.includes('dashboard')) return runDashboardList(cli, tag);
  if (cli.huge || cli.history !== undefined) return runBigTables(cli, phase);
  if (cli.scenarios?.includes('limits')) return runLimits(cli, tag);

  const startedAt = new Date();
  log(
    `PostgreSQL ${redact(benchDatabaseUrl())}; tag ${tag}; ${config.runs} run(s); drain N=${config.drainN}`,
  );
  const environment = await describeEnvironment();
  const results: BenchResults = {
    date: localDate(startedAt),
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    config,
    environment,
    loadAverage: { atStart: loadavg(), atEnd: [] },
    ceiling: null,
    systems: cli.systems.map((s): SystemResult => ({
      id: s.id,
      label: s.label,
      backend: s.backend,
      config: s.config,
      samples: {},
    })),
  };
  if (cli.pgbouncer)
    log(`PgBouncer (transaction mode) on port ${(await startBenchPgBouncer()).port}`);
  const pgbench = cli.skipCeiling ? null : findPgbench();
  if (!cli.skipCeiling && !pgbench) log('pgbench not found: SQL-only ceiling skipped');

  try {
    for (let run = 1; run <= config.runs; run++) {
      if (pgbench) {
        const c = await measureCeiling(
          pgbench,
          `${tag}_pgbench_${run}`,
          config.ceilingSeconds,
          join(REPO_ROOT, 'bench', '.work'),
        );
        results.ceiling ??= {
          rowsPerSec: [],
          tps: [],
          seconds: config.ceilingSeconds,
          clients: CEILING_CLIENTS,
          batch: CEILING_BATCH,
        };
        results.ceiling.rowsPerSec.push(c.rowsPerSec);
        results.ceiling.tps.push(c.tps);
        log(`run ${run}: SQL ceiling ${Math.round(c.rowsPerSec)} rows/s`);
      }
      // Rotate the order each run so that no system always goes first (or last) on a drifting machine.
      const order = cli.systems.map((_, i) => cli.systems[(i + run - 1) % cli.systems.length]);
      for (const spec of order) {
        const result = results.systems[cli.systems.indexOf(spec)];
        try {
          await runSystem(spec, result, phase, config, run);
        } catch (error) {
          // One system failing one run must not lose every other figure: record it and go on.
          const message = (error as Error).message;
          (result.failures ??= []).push(`run ${run}: ${message}`);
          log(`run ${run}: ${spec.id} FAILED: ${(error as Error).stack ?? message}`);
        }
      }
    }
  } finally {
    await stopBenchPgBouncer();
    await cleanup(tag);
  }

  results.finishedAt = new Date().toISOString();
  results.loadAverage.atEnd = loadavg();
  const suffix =
    (config.quick ? '-quick' : config.large ? '-large' : '') + (cli.pgbouncer ? '-pgbouncer' : '');
  mkdirSync(cli.outDir, { recursive: true });
  const base = join(cli.outDir, `${results.date}${suffix}`);
  const chart = results.systems.length > 1 ? writeRatioChart(results, `${base}-ratios`) : null;
  if (chart?.note) log(chart.note);
  const markdown = renderMarkdown(results, chart?.png ? relative(cli.outDir, chart.png) : null);
  writeFileSync(`${base}.md`, markdown);
  writeFileSync(`${base}.json`, `${JSON.stringify(results, null, 2)}\n`);
  process.stdout.write(`${markdown}\n`);
  log(
    `wrote ${relative(REPO_ROOT, base)}.md, .json${chart?.png ? `, ${relative(REPO_ROOT, chart.png)}` : ''}`,
  );
}

async function runSystem(
  spec: SystemSpec,
  result: SystemResult,
  phase: PhaseConfig,
  config: BenchConfigSummary,
  run: number,
): Promise<void> {
  const enqueue = await measureEnqueue(spec, phase);
  addSample(result, 'enqueueOne', enqueue.oneJobsPerSec);
  addSample(result, 'enqueueBulk', enqueue.bulkJobsPerSec);
  const concurrent = await measureConcurrentEnqueue(spec, phase);
  addSample(result, 'enqueueConcurrent', concurrent.jobsPerSec);
  addSample(result, 'enqueueConcurrentProducerCpu', concurrent.producerCpuMsPerJob);
  addSample(result, 'enqueueConcurrentStoreCpu', concurrent.storeCpuMsPerJob);
  addSample(result, 'enqueueConcurrentCommits', concurrent.commitsPerJob);

  const drain = await measureDrain(spec, phase, 1);
  addSample(result, 'drain', drain.jobsPerSec);
  addSample(result, 'rssMb', drain.maxRssMb);
  addSample(result, 'commitsPerJob', drain.commitsPerJob);
  addSample(result, 'workerCpuMsPerJob', drain.workerCpuMsPerJob);
  addSample(result, 'storeCpuMsPerJob', drain.storeCpuMsPerJob);
  addSample(result, 'eventLoopUtilization', drain.eventLoopUtilization);
  if (drain.performed !== phase.drainN)
    log(`${spec.id}: ${drain.performed} jobs performed for ${phase.drainN} enqueued`);
  const report = drain.reports[0];
  if (report?.statements) {
    (result.diagnostics ??= []).push({
      run,
      elapsedMs: drain.elapsedMs,
      statements: report.statements,
      claimSizes: report.claimSizes ?? {},
    });
  }

  const latency = await measureLatency(spec, phase);
  addSample(result, 'latencyP50', latency.p50Ms);
  addSample(result, 'latencyP95', latency.p95Ms);

  const scale: string[] = [];
  if (spec.scale) {
    for (const processes of config.scaleProcesses.filter((p) => p > 1)) {
      const d = await measureDrain(spec, phase, processes);
      addSample(result, processes === 2 ? 'scale2' : 'scale4', d.jobsPerSec);
      scale.push(`${processes}p ${Math.round(d.jobsPerSec)}/s`);
    }
  }
  log(
    `run ${run}: ${spec.id}: enqueue ${Math.round(enqueue.oneJobsPerSec)}/s, bulk ${Math.round(enqueue.bulkJobsPerSec)}/s, ` +
      `${config.enqueueCallers} callers ${Math.round(concurrent.jobsPerSec)}/s ` +
      `(CPU ${concurrent.producerCpuMsPerJob.toFixed(3)} ms/job here, ` +
      `${concurrent.storeCpuMsPerJob?.toFixed(3) ?? '—'} in the store, ` +
      `${concurrent.commitsPerJob?.toFixed(3) ?? '—'} commits/job); ` +
      `drain ${Math.round(drain.jobsPerSec)}/s (${drain.commitsPerJob?.toFixed(3) ?? '—'} commits/job, ` +
      `${drain.maxRssMb.toFixed(0)} MiB, worker CPU ${drain.workerCpuMsPerJob.toFixed(3)} ms/job, ` +
      `store CPU ${drain.storeCpuMsPerJob?.toFixed(3) ?? '—'} ms/job, ELU ${drain.eventLoopUtilization.toFixed(2)}); ` +
      `latency p50 ${latency.p50Ms.toFixed(2)} ms p95 ${latency.p95Ms.toFixed(2)} ms` +
      (scale.length ? `; ${scale.join(', ')}` : ''),
  );
}

/** Drops every database of this run and deletes every Redis key of its queues. */
async function cleanup(tag: string): Promise<void> {
  const dropped = await dropAllScratch(tag);
  const keys = await deleteQueueKeys(`${tag}*`);
  if (dropped.length > 0 || keys > 0)
    log(`cleanup: dropped ${dropped.length} leftover database(s), ${keys} Redis key(s)`);
}

function installCleanup(tag: string): void {
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: cleaning up`);
    // Worker processes exit on their own when the IPC channel closes.
    stopBenchPgBouncer()
      .then(() => cleanup(tag))
      .catch((error) => log(`cleanup failed: ${(error as Error).message}`))
      .finally(() => process.exit(130));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

function localDate(d: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

function redact(url: string): string {
  return url.replace(/\/\/([^:@/]+):[^@/]*@/, '//$1:***@');
}

main().then(
  // Some clients keep timers alive for a moment after closing; the work is done.
  () => process.exit(0),
  (error) => {
    log(`failed: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);

/** `--scenarios dashboard`: the dashboard's job list on a big table (see dashboard-list.ts). */
async function runDashboardList(cli: Cli, tag: string): Promise<void> {
  if (!Number.isInteger(cli.rows) || cli.rows < 10_000) throw new Error('--rows must be >= 10000');
  const runs = cli.runsGiven ? cli.config.runs : 5;
  let results: DashboardListResult[];
  try {
    results = await measureDashboardList(tag, cli.rows, runs, log);
  } finally {
    await cleanup(tag);
  }
  const markdown = renderDashboardList(cli.rows, runs, results);
  mkdirSync(cli.outDir, { recursive: true });
  const base = join(cli.outDir, `${localDate(new Date())}-dashboard`);
  writeFileSync(`${base}.md`, `${markdown}\n`);
  const json = { rows: cli.rows, runs, loadAverage: loadavg(), results };
  writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
  process.stdout.write(`${markdown}\n`);
}

/**
 * `--scenarios noisy`: the noisy-neighbour scenario alone (see noisy.ts): ours with fairness on and off,
 * and pg-boss with and without `groupConcurrency` (unless `--systems` leaves pg-boss out).
 */
async function runNoisy(cli: Cli, tag: string): Promise<void> {
  const backlog = cli.config.large ? 100_000 : 20_000;
  const configurations = [() => oursNoisy(true), () => oursNoisy(false)];
  if (cli.systems.some((s) => s.id === 'pg-boss')) {
    configurations.push(
      () => pgBossNoisy(PG_BOSS_GROUP_CONCURRENCY),
      () => pgBossNoisy(undefined),
    );
  }
  log(`noisy scenario: backlog ${backlog}, ${cli.config.runs} run(s) per figure`);
  let rows: NoisyResult[];
  try {
    rows = await measureNoisyScenarios(tag, backlog, cli.config.runs, configurations, log);
  } finally {
    await cleanup(tag);
  }
  const markdown = renderNoisy(rows);
  mkdirSync(cli.outDir, { recursive: true });
  const base = join(
    cli.outDir,
    `${localDate(new Date())}-noisy${cli.config.large ? '-large' : ''}`,
  );
  const environment = await describeEnvironment();
  writeFileSync(`${base}.md`, `${markdown}\n`);
  writeFileSync(
    `${base}.json`,
    `${JSON.stringify({ environment, loadAverage: loadavg(), runs: cli.config.runs, rows }, null, 2)}\n`,
  );
  process.stdout.write(`${markdown}\n`);
}

/**
 * `--huge` / `--history <rows>`: the big-table scenarios (big-tables.ts) for the PostgreSQL systems
 * chosen (`--systems`), one after the other; each writes its own report.
 */
async function runBigTables(cli: Cli, phase: PhaseConfig): Promise<void> {
  const systems = cli.systems.filter((s) => s.backend === 'postgres');
  const runs = cli.config.runs;
  const date = localDate(new Date());
  mkdirSync(cli.outDir, { recursive: true });
  const write = async (name: string, markdown: string, data: unknown) => {
    const environment = await describeEnvironment();
    const base = join(cli.outDir, `${date}-${name}`);
    const header = `# Big tables: ${name} (${date}, ${runs} run(s), shared machine)\n\n`;
    writeFileSync(`${base}.md`, `${header}${markdown}\n`);
    const json = { date, runs, environment, loadAverage: loadavg(), ...(data as object) };
    writeFileSync(`${base}.json`, `${JSON.stringify(json, null, 2)}\n`);
    process.stdout.write(`${markdown}\n`);
    log(`wrote ${relative(REPO_ROOT, base)}.md, .json`);
  };
  try {
    if (cli.huge) {
      const rows = await measureHuge(systems, phase, runs, log);
      await write('huge', renderHuge(rows, runs), { rows });
    }
    if (cli.history !== undefined) {
      const { rows, sweep } = await measureHistory(systems, phase, runs, cli.history, log);
      await write('history', renderHistory(rows, sweep, runs), { rows, sweep });
    }
  } finally {
    await cleanup(phase.tag);
  }
}

/** `--scenarios limits`: the concurrency-limit scenarios alone (see limits.ts). */
async function runLimits(cli: Cli, tag: string): Promise<void> {
  const rows: LimitsResult[] = [];
  try {
    for (const limit of [2, undefined]) {
      rows.push(await measureAccountLimit(tag, limit));
      log(`limits: ${JSON.stringify(rows[rows.length - 1])}`);
    }
    for (const backlog of [true, false]) {
      rows.push(await measureBehindBacklog(tag, backlog));
      log(`limits: ${JSON.stringify(rows[rows.length - 1])}`);
    }
  } finally {
    await cleanup(tag);
  }
  const markdown = renderLimits(rows);
  mkdirSync(cli.outDir, { recursive: true });
  const base = join(cli.outDir, `${localDate(new Date())}-limits`);
  writeFileSync(`${base}.md`, `${markdown}\n`);
  writeFileSync(`${base}.json`, `${JSON.stringify({ loadAverage: loadavg(), rows }, null, 2)}\n`);
  process.stdout.write(`${markdown}\n`);
}
