import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * Rebuilds the fair claim's index (`FairClaimIndex`, same name, same columns) with the predicate
 * `(state collate "C") = 'available'` instead of `state = 'available'`: the same rows (text equality does
 * not depend on a deterministic collation), but a predicate only the fair claim's statement proves.
 *
 * Why: with the old predicate, `jobs_claim_idx` (priority, run_at, id, same predicate) could serve every
 * part of the fair claim too, and whenever the planner expects about one available row it picks it, being
 * the smaller index: the lane skip scan then reads and sorts every job of the priority once per lane. The
 * planner expects about one row whenever the statistics do not know of the backlog: a table never
 * analyzed (a fresh install, a new database), or analyzed while few jobs were available (a table of
 * mostly finished jobs, then an import), and the worker's generic plan keeps that choice until the next
 * analyze. Measured on a 20,000-job backlog over 100 accounts, claim of 510: 490 ms a claim that way, 7 ms
 * with this predicate (the fair claim drained at 2,400 jobs/s against 63,000 for the plain claim). The
 * planner proves a partial index's predicate only from a clause with the same collation, so the lane
 * scans (which write `(state collate "C") = 'available'`) can use this index and no other, and the plain
 * claim, which never could use it, is unchanged.
 *
 * Built in the migration's transaction like the index it replaces: on a table with a large backlog, run
 * it when a short write lock on `jobs` is acceptable. A worker of the previous version still claims
 * correctly meanwhile (through `jobs_claim_idx`, as slowly as before). Idempotent like every migration
 * here, and a no-op once the index has the new predicate.
 */
export function fairClaimIndexPredicateMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  const index = (predicate: string) => `
    create index jobs_fair_claim_idx on ${s}.jobs
      (priority, queue, (coalesce(account_id, '') collate "C"), run_at, id)
    where ${predicate}`;
  return class FairClaimIndexPredicate implements MigrationInterface {
    name = `FairClaimIndexPredicate${suffix(schema)}1796164400000`;

    /**
     * Rebuilds the index only while it has the old predicate: `runMigrations: true` runs every `up` at
     * each start, and a rebuild would lock `jobs` against writes and re-read the backlog every time.
     */
    async up(q: QueryRunner): Promise<void> {
      await q.query(`
        do $$ begin
          if not exists (
            select from pg_index i
            where i.indexrelid = to_regclass('${s.replace(/'/g, "''")}.jobs_fair_claim_idx')
              and pg_get_expr(i.indpred, i.indrelid) like '%COLLATE "C"%'
          ) then
            drop index if exists ${s}.jobs_fair_claim_idx;
            ${index(`(state collate "C") = 'available'`)};
          end if;
        end $$`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_fair_claim_idx`);
      await q.query(index(`state = 'available'`));
    }
  };
}
