import type { PoolConfig } from 'pg';
import type { DataSource, DataSourceOptions } from 'typeorm';
import { JobsError } from '../errors';

type PostgresOptions = Extract<DataSourceOptions, { type: 'postgres' }>;

/**
 * The `pg` settings of the app's DataSource, read from its public `options` the way TypeORM's postgres
 * driver builds its own pool (url, host, port, username, password, database, ssl, connect timeout,
 * application name, pool size, then `extra` over them; the replication master when replication is configured), so
 * the worker's connections reach the same server with the same credentials and TLS.
 */
export function poolConfigOfDataSource(dataSource: DataSource): PoolConfig {
  const options = dataSource.options;
  if (options.type !== 'postgres') {
    throw new JobsError(
      `JobsModule needs a PostgreSQL DataSource (TypeORM type 'postgres'), got type '${options.type}'. ` +
        `Give JobsModule the name of a postgres DataSource with the import-time option dataSourceName.`,
    );
  }
  const postgres: PostgresOptions = options;
  const credentials = postgres.replication?.master ?? postgres;
  return withoutUndefined({
    connectionString: credentials.url,
    host: credentials.host,
    port: credentials.port,
    user: credentials.username,
    password: credentials.password,
    database: credentials.database,
    ssl: credentials.ssl as PoolConfig['ssl'],
    connectionTimeoutMillis: postgres.connectTimeoutMS,
    application_name: postgres.applicationName,
    max: postgres.poolSize,
    ...(postgres.extra as PoolConfig | undefined),
  });
}

/** The timeouts every connection of the library's pools opens with (`database` module option). */
export interface StatementLimits {
  /** `statement_timeout`, ms; 0: the server's. */
  statementTimeoutMs: number;
  /** `lock_timeout`, ms; 0: the server's. */
  lockTimeoutMs: number;
}

/**
 * The session settings that bound every statement: `statement_timeout` and `lock_timeout`, sent when
 * each connection opens (no statement per query), each left out when 0 (the server's own setting then
 * applies, rather than forcing "no limit" over a role's default).
 */
export function timeoutSettings(limits: StatementLimits): string[] {
  const settings: string[] = [];
  if (limits.statementTimeoutMs > 0)
    settings.push(`statement_timeout=${limits.statementTimeoutMs}`);
  if (limits.lockTimeoutMs > 0) settings.push(`lock_timeout=${limits.lockTimeoutMs}`);
  return settings;
}

/**
 * The worker pool's settings: the `connection` option when given (a separate queue database, or a
 * direct URL beside a transaction pooler), else the DataSource's; with our pool size and session settings.
 */
export function workerPoolConfig(
  dataSource: DataSource,
  connection: PoolConfig | undefined,
  size: number,
  sessionSettings: string[],
): PoolConfig {
  return withSessionSettings(
    connection ?? poolConfigOfDataSource(dataSource),
    size,
    sessionSettings,
  );
}

/**
 * The queue pool's settings (enqueues, look-ups and operations outside a caller's transaction): the
 * DataSource's, so they reach the app's database with its credentials, with our size and session
 * settings. Commits stay durable (no `synchronous_commit = off`): an enqueue that returned is never lost.
 */
export function queuePoolConfig(
  dataSource: DataSource,
  size: number,
  sessionSettings: string[],
): PoolConfig {
  return withSessionSettings(poolConfigOfDataSource(dataSource), size, sessionSettings);
}

/**
 * The LISTEN connection's settings: the `listen` option when given (a direct URL beside a transaction
 * pooler), else the worker pool's (`connection`, else the DataSource's); one connection, bounded by the
 * timeouts. `undefined` when `listen` is `false`: the worker polls.
 */
export function listenPoolConfig(
  dataSource: DataSource,
  connection: PoolConfig | undefined,
  listen: PoolConfig | false | undefined,
  sessionSettings: string[],
): PoolConfig | undefined {
  if (listen === false) return undefined;
  return withSessionSettings(
    listen ?? connection ?? poolConfigOfDataSource(dataSource),
    1,
    sessionSettings,
  );
}

/**
 * What opens a transaction on a connection that cannot carry session settings (behind a transaction
 * pooler): `begin` and a `set local` of each `name=value` setting, in one simple-protocol message (one
 * round trip; the values are the library's own numbers and keywords, never user text). The settings end
 * with the transaction, so the next client of the server connection never sees them.
 */
export function beginWithSettings(settings: readonly string[]): string {
  const locals = settings.map((s) => {
    const [name, value] = s.split('=');
    return `set local ${name} = ${value}`;
  });
  return ['begin', ...locals].join('; ');
}

/** `base` with pool size `size` and `-c name=value` settings appended to its startup `options`. */
function withSessionSettings(
  base: PoolConfig,
  size: number,
  sessionSettings: string[],
): PoolConfig {
  const options = [base.options, ...sessionSettings.map((s) => `-c ${s}`)]
    .filter(Boolean)
    .join(' ');
  return { ...base, max: size, ...(options ? { options } : {}) };
}

function withoutUndefined(config: PoolConfig): PoolConfig {
  return Object.fromEntries(
    Object.entries(config).filter(([, value]) => value !== undefined),
  ) as PoolConfig;
}
