/**
 * Worker processes: the parent forks `bench/worker.ts` (compiled) once per worker process of a phase and
 * talks to it over IPC. A worker sets its system up, reports `ready`, starts on `start`, reports progress
 * (jobs performed, and the wall-clock time of the latest one) every few ms, and on `stop` stops, closes
 * its connections and reports its CPU time and peak RSS before exiting.
 */
import { ChildProcess, fork } from 'node:child_process';
import { join } from 'node:path';
import type { SystemTarget } from '../systems/types';
import { sleep } from './stats';

export interface WorkerInit {
  systemId: string;
  target: SystemTarget;
  concurrency: number;
  /** Collect library-internal statistics (ours only; adds a little overhead). */
  diagnose: boolean;
}

export type ParentMessage = { type: 'start' } | { type: 'stop' };

export interface StatementStats {
  calls: number;
  rows: number;
  ms: number;
}

export interface WorkerReport {
  count: number;
  /** Wall-clock ms (performance.timeOrigin-based) at the start of the latest job. */
  lastAt: number;
  /** User + system CPU of the worker process between `start` and `stop`, ms. */
  cpuMs: number;
  /** Event-loop utilisation between `start` and `stop` (0..1). */
  eventLoopUtilization: number;
  /** Peak resident set size of the worker process over its life, MiB. */
  maxRssMb: number;
  /** With `diagnose`: statements by name. */
  statements?: Record<string, StatementStats>;
  /** With `diagnose`: claim batch sizes, size → count. */
  claimSizes?: Record<string, number>;
}

export type ChildMessage =
  | { type: 'ready' }
  | { type: 'progress'; count: number; lastAt: number }
  | ({ type: 'stopped' } & WorkerReport)
  | { type: 'error'; message: string };

const WORKER_SCRIPT = join(__dirname, '..', 'worker.js');

/** One forked worker process, seen from the parent. */
export class WorkerProcess {
  count = 0;
  lastAt = 0;
  report: WorkerReport | undefined;
  private readonly child: ChildProcess;
  private readonly exited: Promise<number | null>;
  private failure: Error | undefined;
  private isReady = false;

  constructor(init: WorkerInit) {
    this.child = fork(WORKER_SCRIPT, [JSON.stringify(init)], { stdio: 'inherit' });
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
    this.child.on('message', (raw) => this.onMessage(raw as ChildMessage));
    void this.exited.then((code) => {
      if (!this.report) this.failure ??= new Error(`worker process exited with code ${code}`);
    });
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  /** Resolves when the worker is set up, rejects if it failed or died. */
  async waitReady(timeoutMs = 60_000): Promise<void> {
    await this.until(() => this.isReady, timeoutMs, 'worker ready');
  }

  start(): void {
    this.send({ type: 'start' });
  }

  /** Asks the worker to stop and waits for its report and exit. */
  async stop(timeoutMs = 60_000): Promise<WorkerReport> {
    this.send({ type: 'stop' });
    await this.until(() => this.report !== undefined, timeoutMs, 'worker stop');
    await Promise.race([this.exited, sleep(timeoutMs)]);
    return this.report as WorkerReport;
  }

  /** Throws the worker's error, if it reported or died with one. */
  check(): void {
    if (this.failure) throw this.failure;
  }

  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill('SIGKILL');
  }

  private onMessage(message: ChildMessage): void {
    switch (message.type) {
      case 'ready':
        this.isReady = true;
        break;
      case 'progress':
        this.count = message.count;
        this.lastAt = message.lastAt;
        break;
      case 'stopped':
        this.report = message;
        this.count = message.count;
        this.lastAt = message.lastAt;
        break;
      case 'error':
        this.failure = new Error(`worker process: ${message.message}`);
        break;
    }
  }

  private send(message: ParentMessage): void {
    if (this.child.connected) this.child.send(message);
  }

  private async until(done: () => boolean, timeoutMs: number, what: string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!done()) {
      this.check();
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(5);
    }
  }
}
