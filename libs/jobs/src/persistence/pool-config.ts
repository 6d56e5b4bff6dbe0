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
  const base = connection ?? poolConfigOfDataSource(dataSource);
  const options = [base.options, ...sessionSettings.map((s) => `-c ${s}`)]
    .filter(Boolean)
    .join(' ');
  return { ...base, max: size, options };
}

function withoutUndefined(config: PoolConfig): PoolConfig {
  return Object.fromEntries(
    Object.entries(config).filter(([, value]) => value !== undefined),
  ) as PoolConfig;
}
