import type { Pool } from 'pg';
import type { DataSource } from 'typeorm';

/**
 * The `pg` pool behind the app's DataSource, or `undefined` when the installed TypeORM no longer exposes
 * it. This is the library's one reach into TypeORM internals (`PostgresDriver.master`, set by
 * `DataSource.initialize()`), kept because enqueues and look-ups then cost one round trip with a named
 * prepared statement on the app's own connections: `DataSource.query` would take a QueryRunner per call
 * and let PostgreSQL plan every statement anew, which the enqueue hot path cannot afford.
 * `app-pool.spec.ts` checks that the installed TypeORM still sets it; when it does not, `JobsDatabase`
 * falls back to a pool of its own built from the DataSource's documented options.
 */
export function appPoolOf(dataSource: DataSource): Pool | undefined {
  const master = (dataSource.driver as { master?: unknown } | undefined)?.master;
  return isPool(master) ? master : undefined;
}

function isPool(value: unknown): value is Pool {
  if (typeof value !== 'object' || value === null) return false;
  const pool = value as Record<'query' | 'connect' | 'on', unknown>;
  return (
    typeof pool.query === 'function' &&
    typeof pool.connect === 'function' &&
    typeof pool.on === 'function'
  );
}
