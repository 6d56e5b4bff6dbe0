/**
 * Scratch databases on the benchmark server and the PostgreSQL-side measurements (commits, backend CPU).
 * Every database created here is tracked so that `dropAllScratch()` can remove leftovers after a failure.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { Client } from 'pg';
import { sleep } from './stats';

export const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/postgres';

const created = new Set<string>();

export function benchDatabaseUrl(): string {
  return process.env.BENCH_DATABASE_URL || DEFAULT_DATABASE_URL;
}

/** Replaces the database (path) part of a postgres:// URL, keeping credentials and query. */
export function withDatabaseName(url: string, database: string): string {
  const match = /^(postgres(?:ql)?:\/\/[^/?#]*)(?:\/[^?#]*)?(.*)$/.exec(url);
  if (!match) throw new Error(`Not a postgres:// URL: ${url}`);
  return `${match[1]}/${encodeURIComponent(database)}${match[2]}`;
}

/** Runs `fn` on a short-lived connection to the admin database (`BENCH_DATABASE_URL`). */
export function withAdmin<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  return withClient(benchDatabaseUrl(), fn);
}

/** Runs `fn` on a short-lived connection to `url`. */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export interface ScratchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database `name` (lower-case identifier) and tracks it for cleanup. */
export async function createScratchDatabase(name: string): Promise<ScratchDatabase> {
  if (!/^[a-z_][a-z0-9_]{0,62}$/.test(name)) throw new Error(`Bad scratch database name: ${name}`);
  await withAdmin((c) => c.query(`create database "${name}"`));
  created.add(name);
  return { name, url: withDatabaseName(benchDatabaseUrl(), name), drop: () => dropDatabase(name) };
}

export async function dropDatabase(name: string): Promise<void> {
  await withAdmin(async (c) => {
    await c.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    await c.query(`drop database if exists "${name}" with (force)`);
  });
  created.delete(name);
}

/** Drops every scratch database this process created and has not dropped yet, plus any `prefix*` one. */
export async function dropAllScratch(prefix: string): Promise<string[]> {
  const names = await withAdmin(async (c) => {
    const { rows } = await c.query<{ datname: string }>(
      `select datname from pg_database where starts_with(datname, $1)`,
      [prefix],
    );
    return rows.map((r) => r.datname);
  });
  const all = [...new Set([...created, ...names])];
  for (const name of all) await dropDatabase(name);
  return all;
}

/** `pg_stat_database.xact_commit` of one database (read from the admin database, so it does not count). */
export async function transactionsCommitted(database: string): Promise<number> {
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ n: string }>(
      'select xact_commit::text as n from pg_stat_database where datname = $1',
      [database],
    );
    return Number(rows[0]?.n ?? 0);
  });
}

/**
 * Waits until no connection to `database` is left, so that every backend that served it has exited and
 * flushed its statistics (PostgreSQL 15 flushes pending stats on exit, and otherwise at most once a second).
 */
export async function waitForNoConnections(database: string, timeoutMs = 15_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const n = await withAdmin(async (c) => {
      const { rows } = await c.query<{ n: number }>(
        'select count(*)::int as n from pg_stat_activity where datname = $1',
        [database],
      );
      return rows[0].n;
    });
    if (n === 0) return;
    if (Date.now() > deadline) throw new Error(`${n} connection(s) to ${database} still open`);
    await sleep(50);
  }
}

export interface ServerInfo {
  version: string;
  settings: Record<string, string>;
}

const REPORTED_SETTINGS = [
  'shared_buffers',
  'synchronous_commit',
  'max_connections',
  'fsync',
  'wal_level',
  'commit_delay',
  'work_mem',
  'max_wal_size',
  'autovacuum',
  'jit',
];

export async function serverInfo(): Promise<ServerInfo> {
  return withAdmin(async (c) => {
    const version = (await c.query<{ v: string }>('select version() as v')).rows[0].v;
    const { rows } = await c.query<{ name: string; setting: string }>(
      `select name, current_setting(name) as setting from pg_settings where name = any($1)`,
      [REPORTED_SETTINGS],
    );
    const settings: Record<string, string> = {};
    for (const name of REPORTED_SETTINGS) {
      settings[name] = rows.find((r) => r.name === name)?.setting ?? '?';
    }
    return { version, settings };
  });
}

const CLOCK_TICKS_PER_SECOND = 100; // Linux USER_HZ

/**
 * CPU time (ms, user + system) of the local processes matched by `match(commandLine)`, read from /proc.
 * Returns `null` when /proc is not readable or nothing matches (e.g. the server runs on another host).
 * Only processes alive at the moment of the reading count: take both readings while they are running.
 */
export function processCpuMs(match: (commandLine: string, comm: string) => boolean): number | null {
  let total = 0;
  let found = false;
  let entries: string[];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return null;
  }
  for (const pid of entries) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
      if (!match(cmd, comm)) continue;
      const fields = stat.slice(close + 2).split(' ');
      // fields[0] is field 3 (state); utime and stime are fields 14 and 15.
      total += ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
      found = true;
    } catch {
      // the process exited meanwhile
    }
  }
  return found ? total : null;
}

/** CPU of the PostgreSQL backends serving `database` (their process title names the database). */
export function postgresBackendCpuMs(database: string): number | null {
  return processCpuMs((cmd) => cmd.startsWith('postgres:') && cmd.split(' ').includes(database));
}

export function redisServerCpuMs(): number | null {
  return processCpuMs((_cmd, comm) => comm === 'redis-server');
}
