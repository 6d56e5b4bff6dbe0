/**
 * `--diagnose`: counts, in a worker process of ours, every statement the library sends through its
 * database door (by prepared-statement name), the rows each returned and the time it took, and the size
 * of every claim. It wraps `JobsDatabase.prototype.query` from the outside; the library is not changed.
 */
import type { StatementStats } from './processes';

export interface OursDiagnostics {
  statements: Record<string, StatementStats>;
  claimSizes: Record<string, number>;
}

type QueryFn = (
  this: unknown,
  text: string,
  values: unknown[],
  options?: { name?: string },
) => Promise<unknown[]>;

export async function instrumentOurs(): Promise<OursDiagnostics> {
  const { JobsDatabase } = await import('nestjs-tenant-jobs/persistence/jobs-database');
  const diagnostics: OursDiagnostics = { statements: {}, claimSizes: {} };
  const proto = JobsDatabase.prototype as unknown as { query: QueryFn };
  const original = proto.query;
  proto.query = async function (text, values, options = {}) {
    const started = performance.now();
    const rows = await original.call(this, text, values, options);
    const name = options.name ?? firstWords(text);
    const s = (diagnostics.statements[name] ??= { calls: 0, rows: 0, ms: 0 });
    s.calls++;
    s.rows += rows.length;
    s.ms += performance.now() - started;
    if (name.endsWith('.claim')) {
      const key = String(rows.length);
      diagnostics.claimSizes[key] = (diagnostics.claimSizes[key] ?? 0) + 1;
    }
    return rows;
  };
  return diagnostics;
}

function firstWords(sql: string): string {
  return sql.trim().split(/\s+/).slice(0, 3).join(' ');
}
