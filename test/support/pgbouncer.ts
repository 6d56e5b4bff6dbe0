/**
 * Starts a real PgBouncer (Debian's `pgbouncer` package) in transaction pooling mode in front of a
 * PostgreSQL server, for the suites and the benchmark that prove the library works through it.
 *
 * The config lives in a temp folder of its own; every database name is forwarded to the server's
 * database of the same name (`* =`), with the server's credentials, so a URL of the server becomes a URL
 * of PgBouncer by changing its port (`urlOf`). PgBouncer refuses to run as root: as root it is started
 * with `-u postgres`. Not installed, it is an error saying how to install it (suites must not skip).
 */
import { ChildProcess, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PgBouncer {
  /** The port PgBouncer listens on (127.0.0.1). */
  readonly port: number;
  /** `url` (a URL of the server behind PgBouncer) with PgBouncer's host and port instead. */
  urlOf(url: string): string;
  /** What PgBouncer printed (its log), for a failing test's message. */
  output(): string;
  /** Stops PgBouncer (immediate shutdown) and removes its folder. Idempotent. */
  stop(): Promise<void>;
}

export interface PgBouncerOptions {
  /** Server connections per database/user pair. Default 20. */
  poolSize?: number;
  /** `pool_mode`. Default `'transaction'`. */
  poolMode?: 'transaction' | 'session';
  /** `server_idle_timeout`, s: how long an unused server connection is kept. Default 600 (PgBouncer's). */
  serverIdleTimeoutS?: number;
}

/** Throws unless a `pgbouncer` binary is on the PATH (or in /usr/sbin, where Debian puts it). */
export function pgbouncerBinary(): string {
  for (const candidate of ['pgbouncer', '/usr/sbin/pgbouncer']) {
    const probe = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
    if (probe.status === 0) return candidate;
  }
  throw new Error(
    'pgbouncer is not installed: the PgBouncer suites start a real one. Install it with ' +
      '`apt-get install -y pgbouncer` (Debian/Ubuntu; version 1.18 or later), then run the suite again.',
  );
}

/** Starts PgBouncer in front of the server of `serverUrl` (a postgres:// URL with its credentials). */
export async function startPgBouncer(
  serverUrl: string,
  options: PgBouncerOptions = {},
): Promise<PgBouncer> {
  const binary = pgbouncerBinary();
  const server = new URL(serverUrl);
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'jobs-pgbouncer-'));
  chmodSync(dir, 0o755); // readable by user postgres when started as root
  const user = decodeURIComponent(server.username || 'postgres');
  const password = decodeURIComponent(server.password);
  const target = [
    `host=${server.hostname}`,
    `port=${server.port || '5432'}`,
    `user=${user}`,
    ...(password ? [`password=${password}`] : []),
  ].join(' ');
  writeFileSync(join(dir, 'userlist.txt'), `"${user}" ""\n`, { mode: 0o644 });
  writeFileSync(
    join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `* = ${target}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${join(dir, 'userlist.txt')}`,
      `pool_mode = ${options.poolMode ?? 'transaction'}`,
      `default_pool_size = ${options.poolSize ?? 20}`,
      'max_client_conn = 1000',
      'max_db_connections = 0',
      `server_idle_timeout = ${options.serverIdleTimeoutS ?? 600}`,
      // What node-postgres and TypeORM may send at startup that PgBouncer does not know.
      'ignore_startup_parameters = extra_float_digits',
      'server_reset_query =',
      'log_connections = 0',
      'log_disconnections = 0',
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asRoot = process.getuid?.() === 0;
  const child = spawn(binary, [...(asRoot ? ['-u', 'postgres'] : []), join(dir, 'pgbouncer.ini')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let log = '';
  const append = (chunk: Buffer) => {
    log = (log + chunk.toString()).slice(-20_000);
  };
  child.stdout?.on('data', append);
  child.stderr?.on('data', append);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      rmSync(dir, { recursive: true, force: true });
    })());
  try {
    await listening(port, child, () => log);
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    port,
    urlOf: (url) => {
      const u = new URL(url);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    output: () => log,
    stop,
  };
}

/** A TCP port free on 127.0.0.1 right now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

/** Resolves once `port` accepts a TCP connection; rejects if `child` exits first or after 10 s. */
async function listening(port: number, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `pgbouncer exited (${child.exitCode ?? child.signalCode}) at start:\n${log()}`,
      );
    }
    const open = await new Promise<boolean>((resolve) => {
      const socket = createConnection({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    if (Date.now() > deadline) throw new Error(`pgbouncer did not listen on ${port}:\n${log()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
