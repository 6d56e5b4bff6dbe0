import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * Two nullable columns for observability:
 * - `trace_context`: the W3C `traceparent` of the enqueue's producer span, written only when an
 *   OpenTelemetry SDK traces the enqueue; every attempt's consumer span links to it.
 * - `progress`: the last value a running job gave `ctx.progress(value)` (a number or a small JSON object).
 *
 * Nullable columns without a default are a catalog change only (no table rewrite, no row touched), so
 * the exclusive lock lasts milliseconds. Idempotent, like every migration here.
 */
export function observabilityColumnsMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class ObservabilityColumns implements MigrationInterface {
    name = `ObservabilityColumns${suffix(schema)}1796142600000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`
        alter table ${s}.jobs
          add column if not exists trace_context text,
          add column if not exists progress jsonb`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`
        alter table ${s}.jobs drop column if exists trace_context, drop column if exists progress`);
    }
  };
}
