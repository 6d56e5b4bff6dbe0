import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * `payload_rules`: the fingerprint of the payload class's validation rules the job was enqueued under
 * (16 characters, see `payload/payload-rules.ts`). A worker whose class has the same fingerprint performs
 * the payload without running class-validator again; a different one (the rules changed in a deploy) or
 * none (rows from before this column, jobs without a payload class) is validated as before.
 *
 * Nullable, no default: `add column` neither rewrites the table nor touches existing rows. Idempotent like
 * every migration here.
 */
export function payloadRulesColumnMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class PayloadRulesColumn implements MigrationInterface {
    name = `PayloadRulesColumn${suffix(schema)}1796157200000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`alter table ${s}.jobs add column if not exists payload_rules text`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`alter table ${s}.jobs drop column if exists payload_rules`);
    }
  };
}
