import type { Pool, PoolClient, QueryResultRow } from 'pg';
import type { DataSource, EntityManager } from 'typeorm';

/**
 * The library's door to PostgreSQL: the app's TypeORM DataSource, its connection pool for the hot path,
 * and the caller's EntityManager when an enqueue joins a transaction.
 *
 * Hot-path statements go straight to the `pg` pool TypeORM owns (no QueryRunner per call, and named
 * prepared statements so PostgreSQL plans each once per connection); nothing opens a pool of its own, so
 * the app's pool size and credentials are the only ones to configure.
 */
export class JobsDatabase {
  private guarded = false;

  constructor(readonly dataSource: DataSource) {}

  private get pool(): Pool {
    const pool = (this.dataSource.driver as unknown as { master: Pool }).master;
    if (!this.guarded) this.guard(pool);
    return pool;
  }

  /**
   * A pooled client handed straight from one caller to a waiting one can receive the server's "terminating
   * connection" error before the new holder attaches its error listener (TypeORM attaches it a microtask
   * later); an `'error'` event with no listener kills the process. Workers promise to survive database
   * restarts, so every client of the pool gets a listener the moment it is acquired: the error then only
   * fails the query in flight, which the caller already handles (retry, backoff, lease rescue).
   */
  private guard(pool: Pool): void {
    this.guarded = true;
    const ignore = () => undefined;
    pool.on('acquire', (client) => {
      if (client.listeners('error').includes(ignore)) return;
      client.on('error', ignore);
    });
  }

  /** Runs a statement on the pool, or on `manager`'s connection (and transaction) when given. */
  async query<T extends QueryResultRow>(
    text: string,
    values: unknown[],
    options: { name?: string; manager?: EntityManager } = {},
  ): Promise<T[]> {
    if (options.manager) {
      return (await options.manager.query(text, values)) as T[];
    }
    const result = await this.pool.query<T>({ name: options.name, text, values });
    return result.rows;
  }

  /**
   * A dedicated connection (for LISTEN). The caller must release it. `onError` is attached inside pg's
   * callback, before any other event can be delivered, so an error on a fresh connection cannot go
   * unhandled.
   */
  connect(onError: (error: Error, client: PoolClient) => void): Promise<PoolClient> {
    return new Promise((resolve, reject) => {
      this.pool.connect((error, client) => {
        if (error || !client) return reject(error ?? new Error('No client'));
        client.on('error', (e: Error) => onError(e, client));
        resolve(client);
      });
    });
  }
}
