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

/** How `fillHistory` shapes the finished rows it writes. */
export interface HistoryShape {
  /** Rows to write. */
  rows: number;
  /** `finished_at` is spread evenly over this many days before now. Default 14. */
  days?: number;
}

/**
 * Writes `rows` finished jobs into our `jobs.jobs` table with one `insert … select generate_series`, in
 * the shape a busy app's history has: 80% completed (with a small result), 15% failed (their attempts
 * used up, with an error and its stack), 5% cancelled; `finished_at` spread evenly over `days` and
 * rising with the id (rows are written in the order they finished, oldest first, as a real table's are), the 10
 * accounts and the job name of the bench, and a payload of about 200 bytes. The migrations must have
 * run. Then `vacuum analyze`, so the measured phases start on a table with fresh statistics and a
 * visibility map, as autovacuum would leave it. Returns the seconds the fill took.
 */
export async function fillOursHistory(url: string, shape: HistoryShape): Promise<number> {
  const days = shape.days ?? 14;
  const started = Date.now();
  await withClient(url, async (c) => {
    await c.query(`set synchronous_commit = off`);
    await c.query(
      `
      insert into jobs.jobs (name, queue, state, payload, account_id, attempts, max_attempts, run_at,
                             last_error, errors, result, created_at, started_at, finished_at)
      select 'bench.noop', 'default', s.state, s.payload, 'acct-' || (g % 10), s.attempts, 25,
             s.finished_at - interval '2 seconds',
             s.error, case when s.error is null then '[]'::jsonb else jsonb_build_array(s.error) end,
             case when s.state = 'completed' then jsonb_build_object('ok', true, 'n', g) end,
             s.finished_at - interval '2 seconds', s.finished_at - interval '50 milliseconds',
             s.finished_at
      from generate_series(1, $1::bigint) g
      cross join lateral (
        select case when g % 20 < 16 then 'completed' when g % 20 < 19 then 'failed'
                    else 'cancelled' end as state,
               case when g % 20 between 16 and 18 then 25 else 1 end as attempts,
               now() - ($2::float8 * 86400 * ($1 - g) / $1) * interval '1 second' as finished_at,
               jsonb_build_object('n', g, 'orderId', md5(g::text), 'customer', 'customer-' || (g % 977),
                                  'lines', jsonb_build_array(jsonb_build_object('sku', 'SKU-' || (g % 311),
                                  'qty', 1 + g % 5)), 'note', repeat('x', 60)) as payload,
               case when g % 20 between 16 and 18 then jsonb_build_object('name', 'Error',
                 'message', 'upstream returned 503 for order ' || g, 'attempt', 25,
                 'stack', 'Error: upstream returned 503' || repeat(E'\\n    at handler (app.js:1:1)', 8))
               end as error
      ) s`,
      [shape.rows, days],
    );
    await c.query(`vacuum analyze jobs.jobs`);
  });
  return (Date.now() - started) / 1000;
}

/**
 * graphile-worker deletes a job when it completes, so its history is its permanently failed jobs
 * (`attempts = max_attempts`, kept until someone deletes them): `rows` of those in
 * `graphile_worker._private_jobs`, with the same payload size and an error text of about the same size,
 * then `vacuum analyze`. Its migrations must have run (`task` is the bench's task identifier).
 */
export async function fillGraphileHistory(
  url: string,
  shape: HistoryShape,
  task: string,
): Promise<number> {
  const days = shape.days ?? 14;
  const started = Date.now();
  await withClient(url, async (c) => {
    await c.query(`set synchronous_commit = off`);
    await c.query(
      `insert into graphile_worker._private_tasks (identifier) values ($1) on conflict do nothing`,
      [task],
    );
    await c.query(
      `
      insert into graphile_worker._private_jobs (task_id, payload, run_at, attempts, max_attempts,
                                                 last_error, created_at, updated_at)
      select t.id, s.payload, s.at, 25, 25,
             'Error: upstream returned 503 for order ' || g || repeat(E'\\n    at handler (app.js:1:1)', 8),
             s.at - interval '2 seconds', s.at
      from graphile_worker._private_tasks t, generate_series(1, $1::bigint) g
      cross join lateral (
        select now() - ($2::float8 * 86400 * ($1 - g) / $1) * interval '1 second' as at,
               json_build_object('n', g, 'orderId', md5(g::text), 'customer', 'customer-' || (g % 977),
                                 'lines', json_build_array(json_build_object('sku', 'SKU-' || (g % 311),
                                 'qty', 1 + g % 5)), 'note', repeat('x', 60)) as payload
      ) s
      where t.identifier = $3`,
      [shape.rows, days, task],
    );
    await c.query(`vacuum analyze graphile_worker._private_jobs`);
  });
  return (Date.now() - started) / 1000;
}

/** Size of a database on disk, bytes. */
export async function databaseBytes(database: string): Promise<number> {
  return withAdmin(async (c) => {
    const { rows } = await c.query<{ n: string }>('select pg_database_size($1)::text as n', [
      database,
    ]);
    return Number(rows[0].n);
  });
}
