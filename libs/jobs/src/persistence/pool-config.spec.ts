import type { DataSource, DataSourceOptions } from 'typeorm';
import { JobsError } from '../errors';
import {
  beginWithSettings,
  listenPoolConfig,
  poolConfigOfDataSource,
  queuePoolConfig,
  timeoutSettings,
  workerPoolConfig,
} from './pool-config';

const dataSource = (options: Record<string, unknown>) =>
  ({ options: { type: 'postgres', ...options } as DataSourceOptions }) as DataSource;

const SESSION = ['synchronous_commit=off', 'plan_cache_mode=force_generic_plan'];

describe('poolConfigOfDataSource', () => {
  it("maps the DataSource's documented options to pg's, with extra over them (as TypeORM does)", () => {
    const password = () => 'from-vault';
    const config = poolConfigOfDataSource(
      dataSource({
        host: 'db.internal',
        port: 6432,
        username: 'app',
        password,
        database: 'shop',
        ssl: { rejectUnauthorized: false },
        connectTimeoutMS: 2_000,
        applicationName: 'shop-api',
        poolSize: 20,
        extra: { keepAlive: true, max: 30 },
      }),
    );
    expect(config).toStrictEqual({
      host: 'db.internal',
      port: 6432,
      user: 'app',
      password,
      database: 'shop',
      ssl: { rejectUnauthorized: false },
      connectionTimeoutMillis: 2_000,
      application_name: 'shop-api',
      max: 30,
      keepAlive: true,
    });
  });

  it('takes a url as the connection string and leaves out what is not set', () => {
    expect(poolConfigOfDataSource(dataSource({ url: 'postgres://u:p@h/db' }))).toStrictEqual({
      connectionString: 'postgres://u:p@h/db',
    });
  });

  it('connects to the replication master when replication is configured', () => {
    const config = poolConfigOfDataSource(
      dataSource({
        replication: {
          master: { url: 'postgres://primary/app' },
          slaves: [{ url: 'postgres://replica/app' }],
        },
      }),
    );
    expect(config).toStrictEqual({ connectionString: 'postgres://primary/app' });
  });

  it('refuses a DataSource that is not PostgreSQL, naming the fix', () => {
    const mysql = { options: { type: 'mysql' } } as DataSource;
    expect(() => poolConfigOfDataSource(mysql)).toThrow(JobsError);
    expect(() => poolConfigOfDataSource(mysql)).toThrow(/type 'mysql'.*dataSourceName/s);
  });
});

describe('workerPoolConfig', () => {
  it("uses the DataSource's settings with the worker's size and session settings", () => {
    const config = workerPoolConfig(
      dataSource({ url: 'postgres://h/db', poolSize: 50 }),
      undefined,
      4,
      SESSION,
    );
    expect(config).toStrictEqual({
      connectionString: 'postgres://h/db',
      max: 4,
      options: '-c synchronous_commit=off -c plan_cache_mode=force_generic_plan',
    });
  });

  it('uses the connection option instead, keeping its own startup options', () => {
    const config = workerPoolConfig(
      dataSource({ url: 'postgres://pgbouncer:6432/db' }),
      { connectionString: 'postgres://direct:5432/db', options: '-c search_path=app', max: 99 },
      4,
      SESSION,
    );
    expect(config).toStrictEqual({
      connectionString: 'postgres://direct:5432/db',
      max: 4,
      options: '-c search_path=app -c synchronous_commit=off -c plan_cache_mode=force_generic_plan',
    });
  });
});

describe('timeoutSettings and queuePoolConfig', () => {
  it('bounds every statement with statement_timeout and lock_timeout, leaving 0 to the server', () => {
    expect(timeoutSettings({ statementTimeoutMs: 30_000, lockTimeoutMs: 5_000 })).toEqual([
      'statement_timeout=30000',
      'lock_timeout=5000',
    ]);
    expect(timeoutSettings({ statementTimeoutMs: 0, lockTimeoutMs: 250 })).toEqual([
      'lock_timeout=250',
    ]);
    expect(timeoutSettings({ statementTimeoutMs: 0, lockTimeoutMs: 0 })).toEqual([]);
  });

  it("connects the queue's pool like the DataSource, with its own size and the timeouts", () => {
    const config = queuePoolConfig(
      dataSource({ url: 'postgres://app@db/shop', poolSize: 20, extra: { options: '-c x=y' } }),
      5,
      ['statement_timeout=30000', 'lock_timeout=5000'],
    );
    expect(config).toStrictEqual({
      connectionString: 'postgres://app@db/shop',
      max: 5,
      options: '-c x=y -c statement_timeout=30000 -c lock_timeout=5000',
    });
  });
});

describe('behind a transaction pooler', () => {
  it('opens a transaction with set local of each setting, in one message', () => {
    expect(beginWithSettings(['synchronous_commit=off', 'statement_timeout=30000'])).toBe(
      'begin; set local synchronous_commit = off; set local statement_timeout = 30000',
    );
    expect(beginWithSettings([])).toBe('begin');
  });

  it('connects LISTEN to `listen`, else like the worker pool, with one connection; none for false', () => {
    const ds = dataSource({ url: 'postgres://pgbouncer:6432/app' });
    expect(
      listenPoolConfig(ds, undefined, { connectionString: 'postgres://db:5432/app' }, [
        'lock_timeout=5000',
      ]),
    ).toStrictEqual({
      connectionString: 'postgres://db:5432/app',
      max: 1,
      options: '-c lock_timeout=5000',
    });
    expect(listenPoolConfig(ds, undefined, undefined, [])).toStrictEqual({
      connectionString: 'postgres://pgbouncer:6432/app',
      max: 1,
    });
    expect(listenPoolConfig(ds, undefined, false, [])).toBeUndefined();
  });
});
