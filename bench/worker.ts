/**
 * Entry point of a forked worker process (see support/processes.ts for the protocol). Usage, by the bench
 * only: `node worker.js '<WorkerInit JSON>'`.
 */
import './support/paths';
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { instrumentOurs, OursDiagnostics } from './support/diagnose';
import type { ChildMessage, ParentMessage, WorkerInit } from './support/processes';
import { wallClockMs } from './support/stats';
import { OURS, systemById } from './systems';

const PROGRESS_INTERVAL_MS = 10;

async function main(): Promise<void> {
  const init = JSON.parse(process.argv[2]) as WorkerInit;
  const spec = systemById(init.systemId);
  const diagnostics: OursDiagnostics | undefined =
    init.diagnose && spec.id === OURS ? await instrumentOurs() : undefined;
  const system = await spec.create();
  await system.setup(init.target, { role: 'worker', concurrency: init.concurrency });

  let count = 0;
  let lastAt = 0;
  let reported = 0;
  const sink = () => {
    count++;
    lastAt = wallClockMs();
  };
  let sampledRss = process.memoryUsage().rss;
  const progress = setInterval(() => {
    sampledRss = Math.max(sampledRss, process.memoryUsage().rss);
    if (count === reported) return;
    reported = count;
    void send({ type: 'progress', count, lastAt });
  }, PROGRESS_INTERVAL_MS);

  let cpuAtStart = process.cpuUsage();
  let eluAtStart = performance.eventLoopUtilization();
  process.on('message', (raw) => {
    const message = raw as ParentMessage;
    if (message.type === 'start') {
      cpuAtStart = process.cpuUsage();
      eluAtStart = performance.eventLoopUtilization();
      system.startWorkers(sink).catch(fail);
    } else if (message.type === 'stop') {
      const cpu = process.cpuUsage(cpuAtStart);
      const elu = performance.eventLoopUtilization(eluAtStart);
      clearInterval(progress);
      (async () => {
        await system.stop();
        await system.teardown();
        await send({
          type: 'stopped',
          count,
          lastAt,
          cpuMs: (cpu.user + cpu.system) / 1000,
          eventLoopUtilization: elu.utilization,
          maxRssMb: peakRssMb(sampledRss),
          ...diagnostics,
        });
        process.disconnect();
      })().catch(fail);
    }
  });
  // The parent went away (crash, Ctrl-C): do not linger.
  process.on('disconnect', () => process.exit(0));
  await send({ type: 'ready' });
}

/**
 * Peak RSS of this process, MiB: the kernel's high-water mark (VmHWM) where /proc is available, else the
 * largest RSS sampled. Not `process.resourceUsage().maxRSS`: on Linux it carries over the parent's peak
 * across fork+exec, so a worker would report the bench process's memory.
 */
function peakRssMb(sampledBytes: number): number {
  try {
    const kib = /VmHWM:\s+(\d+)\s+kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
    if (kib) return Number(kib) / 1024;
  } catch {
    // not Linux
  }
  return Math.max(sampledBytes, process.memoryUsage().rss) / 2 ** 20;
}

function send(message: ChildMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, undefined, {}, () => resolve());
  });
}

function fail(error: unknown): void {
  const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
  void send({ type: 'error', message });
  setTimeout(() => process.exit(1), 100);
}

main().catch(fail);
