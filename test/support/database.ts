/**
 * Helpers for e2e suites. The server comes from process.env.DATABASE_URL, which is either given
 * by the caller or exported by global-setup.ts (embedded PostgreSQL).
 */
import { randomBytes } from 'node:crypto';
import { Client } from 'pg';

export interface TestDatabase {
  /** Connection URL of the new database (same server and credentials as DATABASE_URL). */
  url: string;
  /** Database name, `jobs_test_<pid>_<random>`. */
  name: string;
  /** Terminates remaining connections to the database and drops it. Idempotent. */
  drop(): Promise<void>;
}

/**
 * Creates a fresh, empty database on the DATABASE_URL server. Call `drop()` in afterAll (after
 * closing your own pools/apps; any connection still open is terminated).
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = requireDatabaseUrl();
  const name = `jobs_test_${process.pid}_${randomBytes(4).toString('hex')}`;
  await withClient(adminUrl, (client) =>
    client.query(`create database ${client.escapeIdentifier(name)}`),
  );
  let dropped: Promise<void> | undefined;
  return {
    name,
    url: withDatabaseName(adminUrl, name),
    drop: () => (dropped ??= dropDatabase(adminUrl, name)),
  };
}

async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await withClient(adminUrl, async (client) => {
    await client.query(
      'select pg_terminate_backend(pid) from pg_stat_activity where datname = $1 and pid <> pg_backend_pid()',
      [name],
    );
    const { rows } = await client.query<{ v: number }>(
      `select current_setting('server_version_num')::int as v`,
    );
    // `with (force)` (PG >= 13) also covers connections opened after the terminate above.
    const force = rows[0].v >= 130000 ? ' with (force)' : '';
    await client.query(`drop database if exists ${client.escapeIdentifier(name)}${force}`);
  });
}

/** A raw client on `url`, closed after `fn`. */
export async function withClient<T>(url: string, fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** Whether the database at `url` has a schema of that name. */
export async function schemaExists(url: string, schema: string): Promise<boolean> {
  return withClient(url, async (c) => {
    const { rowCount } = await c.query('select 1 from pg_namespace where nspname = $1', [schema]);
    return rowCount === 1;
  });
}

/** The names of the tables in `schema`, sorted. */
export async function tablesOf(url: string, schema: string): Promise<string[]> {
  return withClient(url, async (c) => {
    const { rows } = await c.query<{ t: string }>(
      'select table_name as t from information_schema.tables where table_schema = $1 order by 1',
      [schema],
    );
    return rows.map((r) => r.t);
  });
}

function requireDatabaseUrl(): string {
  const url = process.env.DATABASE_URL;
  if (!url) {
    throw new Error(
      'DATABASE_URL is not set. Run e2e suites through jest (the e2e project globalSetup starts ' +
        'an embedded PostgreSQL) or set DATABASE_URL to an existing server.',
    );
  }
  return url;
}

/** Replaces the database (path) part of a postgres:// URL, keeping credentials and query. */
export function withDatabaseName(url: string, database: string): string {
  const match = /^(postgres(?:ql)?:\/\/[^/?#]*)(?:\/[^?#]*)?(.*)$/.exec(url);
  if (!match) throw new Error(`Not a postgres:// URL: ${url}`);
  return `${match[1]}/${encodeURIComponent(database)}${match[2]}`;
}
