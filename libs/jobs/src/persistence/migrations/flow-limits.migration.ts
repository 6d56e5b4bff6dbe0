import type { MigrationInterface, QueryRunner } from 'typeorm';
import { suffix } from './create-jobs-tables.migration';

/**
 * Concurrency and rate limits (issue 14; see `limited-claim.sql.ts` for how the claim uses them):
 *
 * - Five nullable columns on `jobs`, written at enqueue from the job's limits (`JobLimits`): the key
 *   and limit of its concurrency limit, the key, limit and period of its rate limit. Null for jobs
 *   without limits, so the table and existing rows stay as they were (`add column` without a default
 *   rewrites nothing).
 * - `jobs_limited_claim_idx`: the available jobs with a limit, by (concurrency key, rate key) pair, then
 *   claim order, so the limited claim finds each pair with one index descent (a skip scan) however many
 *   jobs a full key holds, and takes a pair's oldest jobs in order.
 * - `jobs_unlimited_claim_idx`: the available jobs without a limit, in claim order, so that while limits
 *   are configured the claim of unlimited jobs never reads past a backlog of limited ones. (It costs
 *   every enqueue one more index entry; the plain claim, run while no limit is configured, cannot use
 *   it and does not change.)
 * - `jobs_limited_running_idx`: the running jobs with a concurrency key, counted per key at claim.
 * - `flow_windows`: one row per rate key, the current window (epoch ms, aligned) and its starts.
 *
 * Idempotent like every migration here.
 */
export function flowLimitsMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class FlowLimits implements MigrationInterface {
    name = `FlowLimits${suffix(schema)}1796150000000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`
        alter table ${s}.jobs
          add column if not exists concurrency_key text,
          add column if not exists concurrency_limit integer,
          add column if not exists rate_key text,
          add column if not exists rate_limit integer,
          add column if not exists rate_period_ms integer`);
      await q.query(`
        create index if not exists jobs_limited_claim_idx on ${s}.jobs
          ((coalesce(concurrency_key, '') collate "C"), (coalesce(rate_key, '') collate "C"),
           priority, run_at, id)
        where state = 'available' and (concurrency_key is not null or rate_key is not null)`);
      await q.query(`
        create index if not exists jobs_unlimited_claim_idx on ${s}.jobs (priority, run_at, id)
        where state = 'available' and concurrency_key is null and rate_key is null`);
      await q.query(`
        create index if not exists jobs_limited_running_idx on ${s}.jobs (concurrency_key)
        where state = 'running' and concurrency_key is not null`);
      await q.query(`
        create table if not exists ${s}.flow_windows (
          key          text    primary key,
          window_start bigint  not null,
          window_ms    integer not null,
          starts       integer not null
        )`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`drop table if exists ${s}.flow_windows`);
      await q.query(`drop index if exists ${s}.jobs_limited_running_idx`);
      await q.query(`drop index if exists ${s}.jobs_unlimited_claim_idx`);
      await q.query(`drop index if exists ${s}.jobs_limited_claim_idx`);
      await q.query(`
        alter table ${s}.jobs
          drop column if exists rate_period_ms,
          drop column if exists rate_limit,
          drop column if exists rate_key,
          drop column if exists concurrency_limit,
          drop column if exists concurrency_key`);
    }
  };
}
