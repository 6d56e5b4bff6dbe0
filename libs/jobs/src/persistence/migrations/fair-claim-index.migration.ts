import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * The fair claim's index (`worker.fairness: 'account'`, see `sql/fair-claim.sql.ts`): available jobs by
 * priority, queue and account (global jobs as the account `''`, in byte order, `collate "C"`: cheaper
 * comparisons than a language collation, and the same order on every server), then in claim order.
 * The claim walks it as a skip scan, one descent per (queue, account) lane, then reads each lane's
 * oldest due jobs from it. Partial like `jobs_claim_idx`, so it holds runnable rows only and stays small
 * however much history the table keeps; an enqueue writes one more index entry (a claim or a finish
 * writes none: their rows leave the `available` predicate).
 *
 * Built in the migration's transaction (not `concurrently`): on a table with a large backlog, run it when
 * a short write lock on `jobs` is acceptable. Idempotent like every migration here.
 */
export function fairClaimIndexMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class FairClaimIndex implements MigrationInterface {
    name = `FairClaimIndex${suffix(schema)}1796126400000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`
        create index if not exists jobs_fair_claim_idx on ${s}.jobs
          (priority, queue, (coalesce(account_id, '') collate "C"), run_at, id)
        where state = 'available'`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`drop index if exists ${s}.jobs_fair_claim_idx`);
    }
  };
}
