import type { DataSource } from 'typeorm';
import { createJobsMigrations } from './migrations';

/**
 * Applies the library's migrations at startup (`runMigrations: true`). Every statement is idempotent, so
 * a schema that is already there is left as it is. Each migration runs in its own transaction, as
 * TypeORM's `each` mode would, so a migration that needs a table's exclusive lock asks for it first
 * instead of upgrading a lock that an earlier migration's statements took in the same transaction (an
 * upgrade could deadlock with the workers of replicas already running). Replicas that start together
 * serialise on a transaction-scoped advisory lock taken by each of those transactions.
 */
export async function runJobsMigrations(dataSource: DataSource, schema: string): Promise<void> {
  const runner = dataSource.createQueryRunner();
  try {
    await runner.connect();
    for (const Migration of createJobsMigrations(schema)) {
      await runner.startTransaction();
      try {
        await runner.query(`select pg_advisory_xact_lock(hashtext($1))`, [
          `jobs-migrations:${schema}`,
        ]);
        await new Migration().up(runner);
        await runner.commitTransaction();
      } catch (error) {
        if (runner.isTransactionActive) await runner.rollbackTransaction();
        throw error;
      }
    }
  } finally {
    await runner.release();
  }
}
