import type { OnApplicationShutdown } from '@nestjs/common';
import { Pool, type PoolClient, type PoolConfig, type QueryResultRow } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';
import { CrossDatabaseTransactionError } from '../errors';
import type { DatabaseOptions } from '../interfaces';
import { DEFAULT_DATABASE } from '../jobs-options';
import {
  beginWithSettings,
  listenPoolConfig,
  queuePoolConfig,
  StatementLimits,
  timeoutSettings,
  workerPoolConfig,
} from './pool-config';

/** Connections of the worker's own pool: the fetch loop, completion flushes, LISTEN, and failures. */
const WORKER_POOL_SIZE = 4;

/** What `JobsDatabase` needs of the `database` module option. */
export type JobsDatabaseSettings = StatementLimits &
  Pick<Required<DatabaseOptions>, 'poolSize'> &
  Pick<DatabaseOptions, 'pooler'>;

/** The worker's own session settings, beside the timeouts (see the class comment for why). */
const WORKER_SETTINGS = ['synchronous_commit=off', 'plan_cache_mode=force_generic_plan'];

/**
 * The library's door to PostgreSQL: the app's TypeORM DataSource (migrations, and the caller's
 * EntityManager when an enqueue joins a transaction), a small pool of the queue's own for enqueues,
 * look-ups and operations, and one of the worker's own for its statements. Statements go straight to
 * `pg` (no QueryRunner per call, and named prepared statements so PostgreSQL plans each once per
 * connection).
 *
 * Both pools open every connection with `statement_timeout` and `lock_timeout` (the `database` module
 * option): a statement that waits on a lock held elsewhere (a migration's `ACCESS EXCLUSIVE` lock, a
 * long transaction) fails after `lockTimeoutMs` instead of hanging the caller, the worker or shutdown.
 * Inside a caller's transaction, the caller's connection and its settings apply. The queue's pool
 * connects like the DataSource (its public options), with durable commits, and replaces the TypeORM
 * pool the library used to borrow through a driver internal: none is read any more, and app load on
 * TypeORM's pool cannot make an enqueue wait for a connection, nor the reverse.
 *
 * The worker's pool connects like the DataSource (its public `options`: same server, credentials, SSL), so
 * there is nothing more to configure; the module option `connection` points it elsewhere instead (the
 * same database reached another way; a queue in a database of its own is a DataSource of its own,
 * `dataSourceName`, and `checkManager` refuses a transaction of another). Its connections commit with
 * `synchronous_commit = off`: a claim, completion, failure, heartbeat or rescue does not wait for the WAL flush. That is safe because each of those writes can be
 * lost in a PostgreSQL crash without losing a job: a lost claim leaves the job available, a lost
 * completion or failure leaves it running until its lease expires and it is rescued and run again, which
 * at-least-once delivery already allows. Enqueues keep the app's durable commits: an enqueue that
 * returned is never lost. A separate pool also means app load cannot starve the worker of connections.
 *
 * They also run with `plan_cache_mode = force_generic_plan`: each of the worker's named statements is
 * planned once per connection, for any parameters. The plan PostgreSQL would otherwise make for a batch
 * with its real size could start from the jobs table instead of the batch's ids: with statistics that
 * say few jobs are running (true most of the time), a 500-job completion scanned every row or index
 * entry of the table, history included, instead of looking up 500 ids (55 ms instead of 5 on a
 * 20,000-row table, growing with the table). The generic plans drive every batch by its ids.
 *
 * Behind a transaction pooler (`database.pooler: 'transaction'`: PgBouncer hands a server connection to
 * a client for one transaction at a time) none of that can live in the session: PgBouncer refuses
 * startup `options`, a setting made on one client's turn would leak into the next client's, and a
 * statement prepared under a name on one server connection is missing (or someone else's) on the next.
 * So statements go unnamed, connections open bare, and every statement outside a caller's transaction
 * runs in a transaction of its own opened by `begin; set local …` (`beginWithSettings`): the same
 * timeouts, asynchronous commits and generic plans (an unnamed statement obeys `plan_cache_mode` too),
 * scoped to that transaction, for two more round trips. The queue's pool skips the wrapper when both
 * timeouts are 0. LISTEN goes to the `listen` connection, or nowhere (the worker polls).
 */
/** The `query` a `JobsDatabase.transaction` callback gets: the transaction's own connection. */
export type TransactionQuery = <R extends QueryResultRow>(
  text: string,
  values: unknown[],
  name?: string,
) => Promise<R[]>;

export class JobsDatabase implements OnApplicationShutdown {
  private workerPoolInstance: Pool | undefined;
  /** The queue's pool: enqueues, look-ups, operations and their transactions. */
  private queuePool: Pool | undefined;
  /** The LISTEN connection's pool (one connection). */
  private listenPool: Pool | undefined;
  /** Behind a transaction pooler: no names, no session settings (see the class comment). */
  private readonly pooled: boolean;
  /** What opens a transaction on each pool: `begin`, with `set local` of its settings when pooled. */
  private readonly opening: { queue: string; worker: string };
  private readonly finishers: Array<() => Promise<void>> = [];
  /** Set once `onApplicationShutdown` ended the pools (see `refuseWhenEnded`). */
  private ended = false;

  /**
   * @param dataSource the app's DataSource (migrations, callers' transactions; both pools connect like it).
   * @param connection the `connection` module option: where the worker's pool connects. Default: where
   *   the DataSource connects.
   * @param settings the `database` module option (timeouts, queue pool size, pooler). Default: its defaults.
   * @param listen the `listen` module option: where the LISTEN connection goes; `false`: none. Default:
   *   where the worker's pool connects.
   */
  constructor(
    readonly dataSource: DataSource,
    private readonly connection?: PoolConfig,
    private readonly settings: JobsDatabaseSettings = DEFAULT_DATABASE,
    private readonly listen?: PoolConfig | false,
  ) {
    this.pooled = settings.pooler === 'transaction';
    const timeouts = timeoutSettings(settings);
    this.opening = this.pooled
      ? {
          queue: beginWithSettings(timeouts),
          worker: beginWithSettings([...WORKER_SETTINGS, ...timeouts]),
        }
      : { queue: 'begin', worker: 'begin' };
  }

  /** Whether the worker has a LISTEN connection (`false`: it polls). */
  get listens(): boolean {
    return this.listen !== false;
  }

  /**
   * Refuses `manager` unless it belongs to the library's DataSource: with the jobs tables in a database
   * of their own, a transaction on the app's database cannot commit or roll back an enqueue with it.
   */
  checkManager(manager: EntityManager | undefined, jobName: string): void {
    if (manager && manager.connection !== this.dataSource) {
      throw new CrossDatabaseTransactionError(
        jobName,
        dataSourceName(manager.connection),
        dataSourceName(this.dataSource),
      );
    }
  }

  private get pool(): Pool {
    if (!this.queuePool) {
      this.refuseWhenEnded();
      const config = queuePoolConfig(
        this.dataSource,
        this.settings.poolSize,
        this.pooled ? [] : timeoutSettings(this.settings),
      );
      this.queuePool = new Pool(config);
      this.queuePool.on('error', () => undefined); // see workerPool
      this.guard(this.queuePool);
    }
    return this.queuePool;
  }

  private get workerPool(): Pool {
    if (!this.workerPoolInstance) {
      this.refuseWhenEnded();
      const config = workerPoolConfig(
        this.dataSource,
        this.connection,
        WORKER_POOL_SIZE,
        this.pooled ? [] : [...WORKER_SETTINGS, ...timeoutSettings(this.settings)],
      );
      this.workerPoolInstance = new Pool(config);
      // An idle connection that dies (server restart) is discarded by the pool, which then emits 'error';
      // unheard, that event would crash the process. The next query simply opens a new connection.
      this.workerPoolInstance.on('error', () => undefined);
      this.guard(this.workerPoolInstance);
    }
    return this.workerPoolInstance;
  }

  /**
   * Registers work to finish before the pools end at shutdown (the enqueue batcher's waiting calls):
   * `onApplicationShutdown` awaits it first, so nothing accepted is cut off by a closed pool.
   */
  beforeEnd(finish: () => Promise<void>): void {
    this.finishers.push(finish);
  }

  /**
   * After shutdown the pools are gone for good: a statement then (a bulk enqueue or a look-up from code
   * that outlived `app.close()`) fails instead of opening a pool nobody would ever end, which would keep
   * the process alive and its connections open.
   */
  private refuseWhenEnded(): void {
    if (this.ended) throw new Error('the jobs module has shut down (its connections are closed)');
  }

  async onApplicationShutdown(): Promise<void> {
    await Promise.all(this.finishers.map((finish) => finish()));
    this.ended = true;
    const pools = [this.workerPoolInstance, this.queuePool, this.listenPool];
    this.workerPoolInstance = this.queuePool = this.listenPool = undefined;
    await Promise.all(pools.map((pool) => pool?.end()));
  }

  /**
   * A pooled client handed straight from one caller to a waiting one can receive the server's "terminating
   * connection" error before the new holder attaches its error listener (TypeORM attaches it a microtask
   * later); an `'error'` event with no listener kills the process. Workers promise to survive database
   * restarts, so every client of the pool gets a listener the moment it is acquired: the error then only
   * fails the query in flight, which the caller already handles (retry, backoff, lease rescue).
   */
  private guard(pool: Pool): void {
    const ignore = () => undefined;
    pool.on('acquire', (client) => {
      if (client.listeners('error').includes(ignore)) return;
      client.on('error', ignore);
    });
  }

  /**
   * Runs a statement on the queue's pool, on `manager`'s connection (and transaction, under the caller's
   * settings) when given, or on the worker's pool with `worker: true`.
   */
  async query<T extends QueryResultRow>(
    text: string,
    values: unknown[],
    options: { name?: string; manager?: EntityManager; worker?: boolean } = {},
  ): Promise<T[]> {
    if (options.manager) {
      return (await options.manager.query(text, values)) as T[];
    }
    const pool = options.worker ? this.workerPool : this.pool;
    if (this.pooled) {
      const opening = options.worker ? this.opening.worker : this.opening.queue;
      // Nothing to scope to a transaction: one round trip, like a direct connection.
      if (opening === 'begin') return (await pool.query<T>({ text, values })).rows;
      return this.inTransaction(pool, opening, (query) => query<T>(text, values));
    }
    const result = await pool.query<T>({ name: options.name, text, values });
    return result.rows;
  }

  /**
   * Runs `fn` in a transaction on one connection of the queue's pool (the worker's with `worker: true`):
   * committed when `fn` resolves, rolled
   * back when it throws (and the error rethrown). `fn` gets that connection's `query`; statements on it run
   * in order, and `fn` may do other work while one is in flight. A connection that fails is discarded.
   * Not TypeORM's `DataSource.transaction`: its `query` reaches the socket only some microtasks later, so
   * synchronous work started right after it would run before the statement is even sent.
   */
  transaction<T>(
    fn: (query: TransactionQuery) => Promise<T>,
    options: { worker?: boolean } = {},
  ): Promise<T> {
    return options.worker
      ? this.inTransaction(this.workerPool, this.opening.worker, fn)
      : this.inTransaction(this.pool, this.opening.queue, fn);
  }

  /** `transaction` on `pool`, opened by `opening` (`begin`, or `begin; set local …` when pooled). */
  private async inTransaction<T>(
    pool: Pool,
    opening: string,
    fn: (query: TransactionQuery) => Promise<T>,
  ): Promise<T> {
    const client = await pool.connect();
    // Set when the connection must not be reused: `begin`, `commit` or `rollback` failed (a restart, a
    // terminated backend). An error of `fn` itself, rolled back, leaves the connection fine.
    let discard: Error | undefined;
    try {
      await client.query(opening).catch((e: unknown) => {
        throw (discard = e as Error);
      });
      let result: T;
      try {
        result = await fn(async (text, values, name) => {
          return (await client.query({ name: this.pooled ? undefined : name, text, values })).rows;
        });
      } catch (error) {
        await client.query('rollback').catch((e: unknown) => (discard = e as Error));
        throw error;
      }
      await client.query('commit').catch((e: unknown) => {
        throw (discard = e as Error);
      });
      return result;
    } finally {
      client.release(discard);
    }
  }

  /**
   * The LISTEN connection's pool: the worker's own, or one of its own when `listen` points elsewhere.
   * Throws when `listen` is `false` (callers check `listens`).
   */
  private get notifyPool(): Pool {
    if (this.listen === undefined && !this.pooled) return this.workerPool;
    if (!this.listenPool) {
      this.refuseWhenEnded();
      const config = listenPoolConfig(this.dataSource, this.connection, this.listen, [
        ...timeoutSettings(this.settings),
      ]);
      if (!config) throw new Error('JobsDatabase: no LISTEN connection (listen: false)');
      this.listenPool = new Pool(config);
      this.listenPool.on('error', () => undefined); // see workerPool
      this.guard(this.listenPool);
    }
    return this.listenPool;
  }

  /**
   * A dedicated connection for LISTEN (the `listen` option's, else one of the worker's pool). The
   * caller must release it. `onError` is attached inside pg's callback, before any other event can be
   * delivered, so an error on a fresh connection cannot go unhandled.
   */
  connect(onError: (error: Error, client: PoolClient) => void): Promise<PoolClient> {
    return new Promise((resolve, reject) => {
      this.notifyPool.connect((error, client) => {
        if (error || !client) return reject(error ?? new Error('No client'));
        client.on('error', (e: Error) => onError(e, client));
        resolve(client);
      });
    });
  }
}

/** The name @nestjs/typeorm registered a DataSource under (`'default'` for the unnamed one). */
function dataSourceName(dataSource: DataSource): string {
  const name = (dataSource.options as { name?: unknown }).name;
  return typeof name === 'string' && name !== '' ? name : 'default';
}
