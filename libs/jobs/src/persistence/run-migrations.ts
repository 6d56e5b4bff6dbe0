import type { DataSource } from 'typeorm';
import { createJobsMigrations } from './migrations';

/**
 * Applies the library's migrations at startup (`runMigrations: true`). Replicas that start together
 * serialise on a transaction-scoped advisory lock; every statement is idempotent, so a schema that is
 * already there is left as it is.
 */
export async function runJobsMigrations(dataSource: DataSource, schema: string): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    await runner.startTransaction();
    await runner.query(`select pg_advisory_xact_lock(hashtext($1))`, [`jobs-migrations:${schema}`]);
    for (const Migration of createJobsMigrations(schema)) await new Migration().up(runner);
    await runner.commitTransaction();
  } catch (error) {
    if (runner.isTransactionActive) await runner.rollbackTransaction();
    throw error;
  } finally {
    await runner.release();
  }
}
