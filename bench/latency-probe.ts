/**
 * `npm run bench:latency`: where the idle latency of our worker goes. Enqueues N jobs one after another into an
 * idle worker in this process (as the bench's latency phase does) and splits each enqueue → handler start
 * into: the enqueue call until its commit returns, the NOTIFY's arrival at the worker (its `wake`), the
 * claim's round-trip, and the start of the handler after the claim returned. Prints p50/p95 of each step.
 * A diagnostic, not a benchmark figure (the probes cost a little). Options: --jobs N (default 300).
 */
import './support/paths';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createScratchDatabase } from './support/database';
import { OursSystem } from './systems/ours';
import { FetchLoop } from '../libs/jobs/src/worker/fetch-loop';
import { WorkerRepository } from '../libs/jobs/src/persistence/worker.repository';
import { JobsRepository } from '../libs/jobs/src/persistence/jobs.repository';

const WARMUP = 20;
const GAP_MS = 20;

interface Marks {
  enqueued?: number;
  insertSent?: number;
  insertBack?: number;
  committed?: number;
  woken?: number;
  claimSent?: number;
  claimBack?: number;
  started?: number;
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { jobs: { type: 'string', default: '300' } } });
  const jobs = Number(values.jobs);
  let current: Marks = {};
  const wake = FetchLoop.prototype.wake;
  FetchLoop.prototype.wake = function (this: FetchLoop) {
    if (current.committed !== undefined || current.enqueued !== undefined)
      current.woken ??= performance.now();
    wake.call(this);
  };
  const claim = WorkerRepository.prototype.claim;
  WorkerRepository.prototype.claim = async function (this: WorkerRepository, request) {
    const sent = performance.now();
    const rows = await claim.call(this, request);
    if (rows.length > 0) {
      current.claimSent = sent;
      current.claimBack = performance.now();
    }
    return rows;
  };

  const insert = JobsRepository.prototype.insert;
  JobsRepository.prototype.insert = async function (this: JobsRepository, ...args) {
    current.insertSent = performance.now();
    const rows = await insert.apply(this, args);
    current.insertBack = performance.now();
    return rows;
  };

  const db = await createScratchDatabase(`bench_latency_${process.pid}`);
  const system = new OursSystem();
  const samples: Marks[] = [];
  try {
    await system.setup(
      { databaseUrl: db.url, queueName: 'latency' },
      { role: 'worker', concurrency: 10 },
    );
    let started: (() => void) | undefined;
    await system.startWorkers(() => {
      current.started = performance.now();
      started?.();
    });
    await new Promise((r) => setTimeout(r, 200));
    for (let n = 0; n < WARMUP + jobs; n++) {
      current = {};
      const done = new Promise<void>((resolve) => (started = resolve));
      current.enqueued = performance.now();
      await system.enqueueOne(n);
      current.committed = performance.now();
      await done;
      if (n >= WARMUP) samples.push(current);
      await new Promise((r) => setTimeout(r, GAP_MS));
    }
    await system.stop();
  } finally {
    await system.teardown();
    await db.drop();
  }
  const step = (name: string, from: keyof Marks, to: keyof Marks) => {
    const d = samples
      .filter((s) => s[from] !== undefined && s[to] !== undefined)
      .map((s) => (s[to] as number) - (s[from] as number))
      .sort((a, b) => a - b);
    const p = (q: number) => d[Math.min(d.length - 1, Math.floor((q / 100) * d.length))] ?? NaN;
    console.log(
      `  ${name.padEnd(34)} p50 ${p(50).toFixed(3)} ms  p95 ${p(95).toFixed(3)} ms  (${d.length})`,
    );
  };
  console.log(`${samples.length} jobs, idle gap ${GAP_MS} ms:`);
  step('enqueue call → handler start', 'enqueued', 'started');
  step('enqueue call → call returns', 'enqueued', 'committed');
  step('enqueue call → insert sent', 'enqueued', 'insertSent');
  step('insert sent → insert returned', 'insertSent', 'insertBack');
  step('insert returned → call returns', 'insertBack', 'committed');
  step('enqueue call → worker woken', 'enqueued', 'woken');
  step('call returns → worker woken', 'committed', 'woken');
  step('worker woken → claim sent', 'woken', 'claimSent');
  step('claim sent → claim returned', 'claimSent', 'claimBack');
  step('claim returned → handler start', 'claimBack', 'started');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
