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
  constructor(readonly dataSource: DataSource) {}

  private get pool(): Pool {
    return (this.dataSource.driver as unknown as { master: Pool }).master;
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

  /** A dedicated connection (for LISTEN). The caller must release it. */
  connect(): Promise<PoolClient> {
    return this.pool.connect();
  }
}
