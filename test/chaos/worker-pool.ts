/**
 * Spawns and supervises the chaos worker processes (./worker-process.ts): real OS processes running the
 * node 24 of the test (`process.execPath`). A worker that exits while the pool is running is restarted at
 * once (after a short pause when it died before it was ready, e.g. because the database was down). Every
 * line the workers print goes to one log file, prefixed with the process id.
 *
 * Workers run from JavaScript transpiled once per suite (`buildWorker`): under ts-node every (re)start
 * costs ~1.6 s of CPU, which on a 2-core machine starves the running workers while the suite kills and
 * restarts them every 1–2 s; precompiled, a start costs ~0.6 s. `CHAOS_TS_NODE=1` runs them through
 * ts-node (transpile-only) instead.
 */
import { ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import * as ts from 'typescript';

const REPO_ROOT = resolve(__dirname, '..', '..');
const ENTRY = 'test/chaos/worker-process.ts';
const ALIAS_TARGET = 'libs/jobs/src';
const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;
const MAX_LINES = 100_000;

/** How to start a worker: node arguments (the script and its preloads). */
export interface WorkerCommand {
  args: string[];
  env?: NodeJS.ProcessEnv;
}

/**
 * Transpiles the library and test/chaos (TypeScript `transpileModule`, what ts-node's transpile-only does
 * on every start) into `outDir`, which must lie inside the repository so that `node_modules` resolves,
 * rewriting the `nestjs-tenant-jobs` alias to relative paths. Takes about a second.
 */
export function buildWorker(outDir: string): WorkerCommand {
  if (process.env.CHAOS_TS_NODE) {
    return {
      args: ['-r', 'ts-node/register/transpile-only', '-r', 'tsconfig-paths/register', ENTRY],
      env: { TS_NODE_PROJECT: 'tsconfig.json' },
    };
  }
  const configFile = ts.readConfigFile(join(REPO_ROOT, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(configFile.config, ts.sys, REPO_ROOT);
  const compilerOptions = { ...options, sourceMap: false, declaration: false, noEmit: false };
  const sources = [
    ...listTs(join(REPO_ROOT, ALIAS_TARGET)),
    ...listTs(join(REPO_ROOT, 'test', 'chaos')),
  ];
  for (const file of sources) {
    const { outputText } = ts.transpileModule(readFileSync(file, 'utf8'), {
      compilerOptions,
      fileName: file,
    });
    const target = join(outDir, relative(REPO_ROOT, file)).replace(/\.ts$/, '.js');
    const toLib = relative(dirname(target), join(outDir, ALIAS_TARGET)) || '.';
    const js = outputText.replace(
      /require\("nestjs-tenant-jobs(\/[^"]*)?"\)/g,
      (_m, sub: string | undefined) =>
        `require("${toLib.startsWith('.') ? '' : './'}${toLib}${sub ?? ''}")`,
    );
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, js);
  }
  return { args: [join(outDir, ENTRY).replace(/\.ts$/, '.js')] };
}

function listTs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !/\.(spec|d)\.ts$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

export interface WorkerExit {
  pid: number;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when the pool ended it itself (`kill`, `stop`, `destroy`). */
  expected: boolean;
  /** True when it exited before it printed `ready`. */
  beforeReady: boolean;
  at: number;
}

interface Slot {
  child: ChildProcess | undefined;
  pid: number | undefined;
  ready: boolean;
  expectExit: boolean;
  exited: Promise<WorkerExit> | undefined;
  readyWaiters: Array<() => void>;
  restartTimer: NodeJS.Timeout | undefined;
}

export interface WorkerPoolOptions {
  /** Database URL the workers connect to. */
  url: string;
  /** Number of worker processes kept running. */
  size: number;
  /** File the workers' output is appended to. */
  logFile: string;
  /** From `buildWorker`. */
  command: WorkerCommand;
  /** More environment for the workers (e.g. `CHAOS_PROFILE`). */
  env?: NodeJS.ProcessEnv;
}

export class WorkerPool {
  /** Every exit, in order. */
  readonly exits: WorkerExit[] = [];
  /** Every process ever spawned. */
  readonly spawned: number[] = [];
  /** Output lines of every worker (`[pid] line`), capped. */
  readonly lines: string[] = [];
  private readonly slots: Slot[];
  private stopping = false;

  constructor(private readonly options: WorkerPoolOptions) {
    this.slots = Array.from({ length: options.size }, () => ({
      child: undefined,
      pid: undefined,
      ready: false,
      expectExit: false,
      exited: undefined,
      readyWaiters: [],
      restartTimer: undefined,
    }));
  }

  /** Starts every worker and resolves once all of them printed `ready`. */
  async start(): Promise<void> {
    for (const slot of this.slots) this.spawnInto(slot);
    await this.allReady();
  }

  /** Resolves once every slot holds a ready worker. */
  async allReady(timeoutMs = READY_TIMEOUT_MS): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Error(
              `chaos workers not ready within ${timeoutMs} ms; last output:\n${this.lines.slice(-30).join('\n')}`,
            ),
          ),
        timeoutMs,
      );
    });
    try {
      await Promise.race([
        Promise.all(
          this.slots.map((slot) =>
            slot.ready ? undefined : new Promise<void>((r) => slot.readyWaiters.push(r)),
          ),
        ),
        timeout,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Process ids of the workers that are up and ready now. */
  readyPids(): number[] {
    return this.slots.filter((s) => s.ready && s.pid !== undefined).map((s) => s.pid as number);
  }

  /** Process ids of the workers alive now (ready or starting). */
  livePids(): number[] {
    return this.slots.filter((s) => s.child).map((s) => s.pid as number);
  }

  /**
   * SIGKILLs a worker and resolves with its exit once the OS reaped it. The pool restarts it right away.
   */
  async kill(pid: number): Promise<WorkerExit> {
    const slot = this.slots.find((s) => s.pid === pid && s.child);
    if (!slot?.child || !slot.exited) throw new Error(`no live chaos worker with pid ${pid}`);
    slot.expectExit = true;
    slot.child.kill('SIGKILL');
    return slot.exited;
  }

  /** Sends SIGTERM to every worker (no restarts from now on) and resolves with their exits. */
  async stop(): Promise<WorkerExit[]> {
    return this.shutdown('SIGTERM', STOP_TIMEOUT_MS);
  }

  /** SIGKILLs every worker (no restarts from now on); for afterAll. Safe to call more than once. */
  async destroy(): Promise<void> {
    await this.shutdown('SIGKILL', STOP_TIMEOUT_MS);
  }

  private async shutdown(signal: NodeJS.Signals, timeoutMs: number): Promise<WorkerExit[]> {
    this.stopping = true;
    const pending: Array<Promise<WorkerExit>> = [];
    for (const slot of this.slots) {
      clearTimeout(slot.restartTimer);
      slot.restartTimer = undefined;
      if (!slot.child || !slot.exited) continue;
      slot.expectExit = true;
      slot.child.kill(signal);
      const child = slot.child;
      // A worker that does not stop in time is killed, and the caller sees that in its exit.
      const hard = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      pending.push(slot.exited.finally(() => clearTimeout(hard)));
    }
    return Promise.all(pending);
  }

  private spawnInto(slot: Slot): void {
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.options.command.env,
      ...this.options.env,
      CHAOS_DATABASE_URL: this.options.url,
      NO_COLOR: '1',
    };
    delete env.NODE_OPTIONS; // jest's --experimental-vm-modules is not for the workers
    const child = spawn(process.execPath, this.options.command.args, {
      cwd: REPO_ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const pid = child.pid;
    if (pid === undefined) throw new Error('could not spawn a chaos worker');
    slot.child = child;
    slot.pid = pid;
    slot.ready = false;
    slot.expectExit = false;
    this.spawned.push(pid);
    const out = createInterface({ input: child.stdout! });
    out.on('line', (line) => {
      this.record(pid, line);
      if (line === 'ready' && slot.pid === pid) {
        slot.ready = true;
        for (const waiter of slot.readyWaiters.splice(0)) waiter();
      }
    });
    createInterface({ input: child.stderr! }).on('line', (line) => this.record(pid, line));
    slot.exited = new Promise<WorkerExit>((resolveExit) => {
      child.once('exit', (code, signal) => {
        const exit: WorkerExit = {
          pid,
          code,
          signal,
          expected: slot.expectExit,
          beforeReady: !slot.ready,
          at: Date.now(),
        };
        this.exits.push(exit);
        this.record(pid, `<exited: code ${code}, signal ${signal}>`);
        slot.child = undefined;
        slot.ready = false;
        if (!this.stopping) {
          // Restart at once after a kill; a worker that could not even start waits a little.
          const delay = exit.beforeReady ? 500 : 0;
          slot.restartTimer = setTimeout(() => {
            slot.restartTimer = undefined;
            if (!this.stopping) this.spawnInto(slot);
          }, delay);
        }
        resolveExit(exit);
      });
    });
  }

  private record(pid: number, line: string): void {
    const text = `[${pid}] ${line}`;
    if (this.lines.length < MAX_LINES) this.lines.push(text);
    appendFileSync(this.options.logFile, `${text}\n`);
  }
}
