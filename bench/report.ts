/**
 * Results: the JSON written next to the report (every sample of every run), and the markdown report
 * (medians, ratios ours / theirs, scale, environment).
 */
import type { Environment } from './support/environment';
import type { StatementStats } from './support/processes';
import { median } from './support/stats';

export type MetricId =
  | 'enqueueOne'
  | 'enqueueBulk'
  | 'enqueueConcurrent'
  | 'enqueueConcurrentProducerCpu'
  | 'enqueueConcurrentStoreCpu'
  | 'enqueueConcurrentCommits'
  | 'drain'
  | 'latencyP50'
  | 'latencyP95'
  | 'rssMb'
  | 'commitsPerJob'
  | 'workerCpuMsPerJob'
  | 'storeCpuMsPerJob'
  | 'eventLoopUtilization'
  | 'scale2'
  | 'scale4';

export interface MetricDef {
  id: MetricId;
  label: string;
  better: 'higher' | 'lower' | null;
  digits: number;
  /** Shown in the ratio chart. */
  chart?: string;
}

export function metricDefs(cfg: BenchConfigSummary): MetricDef[] {
  return [
    {
      id: 'enqueueOne',
      label: `Enqueue, one call at a time (jobs/s, N=${fmtInt(cfg.enqueueOneN)})`,
      better: 'higher',
      digits: 0,
      chart: 'enqueue 1×1',
    },
    {
      id: 'enqueueBulk',
      label: `Enqueue, bulk ×${fmtInt(cfg.bulkBatch)} (jobs/s, N=${fmtInt(cfg.enqueueBulkN)})`,
      better: 'higher',
      digits: 0,
      chart: 'enqueue bulk',
    },
    {
      id: 'enqueueConcurrent',
      label:
        `Enqueue, ${cfg.enqueueCallers} concurrent callers, one job per call ` +
        `(jobs/s, N=${fmtInt(cfg.enqueueConcurrentN)})`,
      better: 'higher',
      digits: 0,
      chart: `enqueue c${cfg.enqueueCallers}`,
    },
    {
      id: 'enqueueConcurrentProducerCpu',
      label: `Producer CPU per job (ms, ${cfg.enqueueCallers} concurrent callers)`,
      better: 'lower',
      digits: 3,
    },
    {
      id: 'enqueueConcurrentStoreCpu',
      label: `Store CPU per job (ms, ${cfg.enqueueCallers} concurrent callers; PG backends or redis-server)`,
      better: 'lower',
      digits: 3,
    },
    {
      id: 'enqueueConcurrentCommits',
      label: `PostgreSQL commits per job (${cfg.enqueueCallers} concurrent callers)`,
      better: 'lower',
      digits: 3,
    },
    {
      id: 'drain',
      label: `Drain, 1 process (jobs/s, N=${fmtInt(cfg.drainN)})`,
      better: 'higher',
      digits: 0,
      chart: 'drain',
    },
    {
      id: 'latencyP50',
      label: 'Idle latency p50 (ms)',
      better: 'lower',
      digits: 2,
      chart: 'latency p50',
    },
    {
      id: 'latencyP95',
      label: 'Idle latency p95 (ms)',
      better: 'lower',
      digits: 2,
      chart: 'latency p95',
    },
    {
      id: 'rssMb',
      label: 'Worker process peak RSS (MiB)',
      better: 'lower',
      digits: 0,
      chart: 'peak RSS',
    },
    {
      id: 'commitsPerJob',
      label: 'PostgreSQL commits per job (drain)',
      better: 'lower',
      digits: 3,
      chart: 'commits/job',
    },
    {
      id: 'workerCpuMsPerJob',
      label: 'Worker CPU per job (ms, drain)',
      better: 'lower',
      digits: 3,
    },
    {
      id: 'storeCpuMsPerJob',
      label: 'Store CPU per job (ms, drain; PG backends or redis-server)',
      better: 'lower',
      digits: 3,
    },
    {
      id: 'eventLoopUtilization',
      label: 'Worker event-loop utilisation (drain)',
      better: null,
      digits: 2,
    },
    { id: 'scale2', label: 'Drain, 2 processes (jobs/s)', better: 'higher', digits: 0 },
    { id: 'scale4', label: 'Drain, 4 processes (jobs/s)', better: 'higher', digits: 0 },
  ];
}

export interface BenchConfigSummary {
  runs: number;
  quick: boolean;
  large: boolean;
  enqueueOneN: number;
  enqueueBulkN: number;
  bulkBatch: number;
  enqueueConcurrentN: number;
  enqueueCallers: number;
  drainN: number;
  latencyJobs: number;
  scaleProcesses: number[];
  ceilingSeconds: number;
  diagnose: boolean;
}

export interface SystemResult {
  id: string;
  label: string;
  backend: 'postgres' | 'redis';
  config: string;
  samples: Partial<Record<MetricId, Array<number | null>>>;
  /** `--diagnose` only: per-run library statistics from the 1-process drain. */
  diagnostics?: DrainDiagnostics[];
  /** Runs in which a phase of this system failed (its figures of that run are missing or partial). */
  failures?: string[];
}

export interface DrainDiagnostics {
  run: number;
  elapsedMs: number;
  statements: Record<string, StatementStats>;
  claimSizes: Record<string, number>;
}

export interface BenchResults {
  date: string;
  startedAt: string;
  finishedAt: string;
  config: BenchConfigSummary;
  environment: Environment;
  /** `os.loadavg()` (1, 5, 15 min) when the bench started and ended: others' load skews absolute figures. */
  loadAverage: { atStart: number[]; atEnd: number[] };
  ceiling: {
    rowsPerSec: number[];
    tps: number[];
    seconds: number;
    clients: number;
    batch: number;
  } | null;
  systems: SystemResult[];
}

export function addSample(system: SystemResult, metric: MetricId, value: number | null): void {
  (system.samples[metric] ??= []).push(value);
}

export function medianOf(system: SystemResult, metric: MetricId): number | null {
  const samples = system.samples[metric];
  return samples ? median(samples) : null;
}

/** ours / theirs for one metric, or null when either is missing. */
export function ratio(ours: SystemResult, theirs: SystemResult, metric: MetricId): number | null {
  const a = medianOf(ours, metric);
  const b = medianOf(theirs, metric);
  return a === null || b === null || b === 0 ? null : a / b;
}

export function renderMarkdown(results: BenchResults, chartFile: string | null): string {
  const { config: cfg, environment: env } = results;
  const [ours, ...peers] = results.systems;
  const defs = metricDefs(cfg).filter((d) => results.systems.some((s) => s.samples[d.id]?.length));
  const ceiling = results.ceiling ? median(results.ceiling.rowsPerSec) : null;
  const lines: string[] = [];

  lines.push(
    `# Benchmark: ${ours.label} vs peers (${results.date}${cfg.quick ? ', quick smoke run' : ''})`,
  );
  lines.push('');
  lines.push(
    `Median of ${cfg.runs} run${cfg.runs === 1 ? '' : 's'} per figure, all systems side by side in one ` +
      `run on one machine and one PostgreSQL server. Ratios are ours / theirs: above 1 is better for ` +
      `"higher" metrics, below 1 is better for "lower" ones.`,
  );
  lines.push('');
  lines.push('## Figures');
  lines.push('');
  lines.push(`| Metric | better | ${results.systems.map((s) => s.label).join(' | ')} |`);
  lines.push(`|---|---|${results.systems.map(() => '---:').join('|')}|`);
  for (const d of defs) {
    const cells = results.systems.map((s) => fmt(medianOf(s, d.id), d.digits));
    lines.push(`| ${d.label} | ${d.better ?? ''} | ${cells.join(' | ')} |`);
  }
  const range = results.systems.map((s) => {
    const runs = (s.samples.drain ?? []).filter((v): v is number => v !== null);
    return runs.length > 1 ? `${fmt(Math.min(...runs), 0)}–${fmt(Math.max(...runs), 0)}` : '—';
  });
  if (range.some((r) => r !== '—'))
    lines.push(`| Drain, 1 process: range over runs | | ${range.join(' | ')} |`);
  if (ceiling) {
    const cells = results.systems.map((s) => {
      const drain = medianOf(s, 'drain');
      return s.backend === 'postgres' && drain !== null
        ? `${((drain / ceiling) * 100).toFixed(1)}%`
        : '—';
    });
    lines.push(`| Drain as % of the SQL-only ceiling | higher | ${cells.join(' | ')} |`);
  }
  lines.push('');

  if (peers.length > 0) renderRatios(lines, ours, peers, defs, chartFile);

  const scaled = results.systems.filter(
    (s) => s.samples.scale2?.length || s.samples.scale4?.length,
  );
  if (scaled.length > 0) {
    lines.push('## Scale: drain jobs/s by worker processes (one database)');
    lines.push('');
    lines.push(`| Processes | ${scaled.map((s) => s.label).join(' | ')} |`);
    lines.push(`|---:|${scaled.map(() => '---:').join('|')}|`);
    const rows: Array<[string, MetricId]> = [
      ['1', 'drain'],
      ['2', 'scale2'],
      ['4', 'scale4'],
    ];
    for (const [p, metric] of rows) {
      const cells = scaled.map((s) => {
        const v = medianOf(s, metric);
        const base = medianOf(s, 'drain');
        return v === null
          ? '—'
          : `${fmt(v, 0)}${metric === 'drain' || !base ? '' : ` (${(v / base).toFixed(2)}×)`}`;
      });
      lines.push(`| ${p} | ${cells.join(' | ')} |`);
    }
    lines.push('');
  }

  lines.push('## SQL-only ceiling');
  lines.push('');
  if (results.ceiling && ceiling) {
    const c = results.ceiling;
    lines.push(
      `pgbench, ${c.clients} clients, ${c.seconds} s, one transaction = claim and delete ${c.batch} rows ` +
        '(`with c as (select id from t order by id limit 100 for update skip locked) delete from t using c ' +
        `where t.id = c.id\`) on a pre-filled table: **${fmt(ceiling, 0)} rows/s** (median; runs: ` +
        `${c.rowsPerSec.map((r) => fmt(r, 0)).join(', ')}).`,
    );
  } else {
    lines.push('Not measured (pgbench not found).');
  }
  lines.push('');

  for (const s of results.systems.filter((x) => x.diagnostics?.length)) {
    renderDiagnostics(lines, s);
  }

  const failed = results.systems.filter((s) => s.failures?.length);
  if (failed.length > 0) {
    lines.push('## Failures');
    lines.push('');
    for (const s of failed) for (const f of s.failures ?? []) lines.push(`- ${s.label}, ${f}`);
    lines.push('');
  }

  lines.push('## Setup');
  lines.push('');
  lines.push(`- Machine: ${env.cores} cores (${env.cpuModel}), ${env.memoryGiB} GiB memory.`);
  lines.push(`- Node ${env.node}, from the ${env.nodeSource}.`);
  if (env.library) lines.push(`- Library measured: ${env.library}.`);
  lines.push(
    `- ${env.postgres.version.split(' on ')[0]}: ` +
      Object.entries(env.postgres.settings)
        .map(([k, v]) => `${k}=${v}`)
        .join(', ') +
      '.',
  );
  lines.push(`- Redis ${env.redis}.`);
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' / ');
  lines.push(
    `- Load average (1 / 5 / 15 min): ${load(results.loadAverage.atStart)} at the start, ` +
      `${load(results.loadAverage.atEnd)} at the end (other work on the machine moves absolute ` +
      'figures; the ratios of one run are what to compare).',
  );
  lines.push(
    `- N: enqueue ${fmtInt(cfg.enqueueOneN)} one at a time and ${fmtInt(cfg.enqueueBulkN)} in batches of ` +
      `${fmtInt(cfg.bulkBatch)}, and ${fmtInt(cfg.enqueueConcurrentN)} by ${cfg.enqueueCallers} concurrent ` +
      `callers (one job per call, each awaited before its next; after a warm-up of 20 calls each); drain ${fmtInt(cfg.drainN)} no-op jobs, prefilled in bulk; idle latency over ` +
      `${cfg.latencyJobs} sequential jobs (after 20 warm-up jobs), 20 ms idle between jobs.`,
  );
  lines.push(
    '- Every phase uses a fresh database (or Redis queue). Drain workers are separate processes ' +
      '(`child_process.fork`), started together once set up; the time runs to the start of the last job. ' +
      'Commits are the `pg_stat_database.xact_commit` delta of the phase database from the start to ' +
      'the moment all workers have closed their connections. CPU is user+system time from /proc.',
  );
  lines.push(
    `- Packages: ${Object.entries(env.packages)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}.`,
  );
  lines.push('');
  lines.push('| System | Configuration |');
  lines.push('|---|---|');
  for (const s of results.systems) lines.push(`| ${s.label} | ${s.config} |`);
  lines.push('');
  return lines.join('\n');
}

function renderRatios(
  lines: string[],
  ours: SystemResult,
  peers: SystemResult[],
  defs: MetricDef[],
  chartFile: string | null,
): void {
  lines.push('## Ratios ours / theirs');
  lines.push('');
  lines.push(`| Metric | better | ${peers.map((p) => `vs ${p.label}`).join(' | ')} |`);
  lines.push(`|---|---|${peers.map(() => '---:').join('|')}|`);
  for (const d of defs.filter((x) => x.better !== null)) {
    const cells = peers.map((p) => fmtRatio(ratio(ours, p, d.id)));
    if (cells.every((c) => c === '—')) continue;
    lines.push(`| ${d.label} | ${d.better} | ${cells.join(' | ')} |`);
  }
  lines.push('');
  if (chartFile) {
    lines.push(`![Ratios ours / theirs](${chartFile})`);
    lines.push('');
  }
}

function renderDiagnostics(lines: string[], system: SystemResult): void {
  lines.push(`## Diagnostics: ${system.label}, 1-process drain (\`--diagnose\`)`);
  lines.push('');
  lines.push('| Run | Statement | Calls | Rows/call | ms/call | Σ ms / drain ms |');
  lines.push('|---:|---|---:|---:|---:|---:|');
  for (const d of system.diagnostics ?? []) {
    for (const [name, st] of Object.entries(d.statements)) {
      lines.push(
        `| ${d.run} | \`${name}\` | ${st.calls} | ${fmt(st.rows / st.calls, 1)} | ` +
          `${fmt(st.ms / st.calls, 2)} | ${((st.ms / d.elapsedMs) * 100).toFixed(0)}% |`,
      );
    }
    const bySize = Object.entries(d.claimSizes).sort((a, b) => b[1] - a[1]);
    const sizes =
      bySize
        .slice(0, 6)
        .map(([size, n]) => `${size} rows ×${n}`)
        .join(', ') + (bySize.length > 6 ? `, … (${bySize.length - 6} other sizes)` : '');
    lines.push(`| ${d.run} | claim sizes | ${sizes} | | | |`);
  }
  lines.push('');
}

function fmt(value: number | null, digits: number): string {
  if (value === null) return '—';
  return value.toLocaleString('en-US', {
    minimumFractionDigits: digits,
    maximumFractionDigits: digits,
  });
}

function fmtInt(value: number): string {
  return value.toLocaleString('en-US');
}

function fmtRatio(value: number | null): string {
  return value === null ? '—' : `${value >= 10 ? value.toFixed(1) : value.toFixed(2)}×`;
}
