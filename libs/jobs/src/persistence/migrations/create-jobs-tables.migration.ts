import type { MigrationInterface, QueryRunner } from 'typeorm';

/**
 * The jobs schema. Every statement is idempotent (`if not exists`) so the migration can also run at startup
 * (`runMigrations: true`) on a database where the app's own migration run already applied it.
 */
export function createJobsTablesMigration(schema: string): new () => MigrationInterface {
  const s = `"${schema}"`;
  return class CreateJobsTables implements MigrationInterface {
    name = `CreateJobsTables${suffix(schema)}1763800000000`;

    async up(q: QueryRunner): Promise<void> {
      await q.query(`create schema if not exists ${s}`);
      await q.query(`
        create table if not exists ${s}.jobs (
          id           bigint generated always as identity primary key,
          name         text        not null,
          queue        text        not null default 'default',
          priority     integer     not null default 0,
          state        text        not null default 'available'
                       check (state in ('available', 'running', 'completed', 'failed', 'cancelled')),
          payload      jsonb       not null default '{}'::jsonb,
          account_id   text,
          attempts     integer     not null default 0,
          max_attempts integer     not null default 25 check (max_attempts > 0),
          run_at       timestamptz not null default now(),
          locked_by    text,
          locked_until timestamptz,
          last_error   jsonb,
          errors       jsonb       not null default '[]'::jsonb,
          result       jsonb,
          unique_key   text,
          created_at   timestamptz not null default now(),
          started_at   timestamptz,
          finished_at  timestamptz
        )`);
      // The claim query's index: only runnable rows, in claim order, so it stays small however much
      // history the table holds, and a claim reads the first rows of it and stops.
      await q.query(`
        create index if not exists jobs_claim_idx on ${s}.jobs (priority, run_at, id)
        where state = 'available'`);
      // Dedupe: one unfinished job per unique key; finished jobs free the key.
      await q.query(`
        create unique index if not exists jobs_unique_key_idx on ${s}.jobs (unique_key)
        where unique_key is not null and state in ('available', 'running')`);
      // Tenant look-ups (an account's jobs by state) and the rescuer's index (leases by expiry) are
      // created by the next migration, HotPathIndexes, which replaced the forms this one first had.
      // Retention purge and failed-job listings.
      await q.query(`
        create index if not exists jobs_finished_idx on ${s}.jobs (state, finished_at)
        where state in ('completed', 'failed', 'cancelled')`);
      await q.query(`
        create table if not exists ${s}.workers (
          id                text        primary key,
          hostname          text        not null,
          pid               integer     not null,
          queues            text[]      not null,
          concurrency       integer     not null,
          started_at        timestamptz not null default now(),
          last_heartbeat_at timestamptz not null default now()
        )`);
      // One row per (schedule, fire time): the guard that makes a recurring tick enqueue once across replicas.
      await q.query(`
        create table if not exists ${s}.recurring_executions (
          schedule_key text        not null,
          fire_time    timestamptz not null,
          job_ids      bigint[]    not null default '{}',
          created_at   timestamptz not null default now(),
          primary key (schedule_key, fire_time)
        )`);
    }

    async down(q: QueryRunner): Promise<void> {
      await q.query(`drop table if exists ${s}.recurring_executions`);
      await q.query(`drop table if exists ${s}.workers`);
      await q.query(`drop table if exists ${s}.jobs`);
      await q.query(`drop schema if exists ${s} restrict`);
    }
  };
}

/** Migration names must be unique per database; a non-default schema gets its own name. */
export function suffix(schema: string): string {
  return schema === 'jobs'
    ? ''
    : schema.replace(/(^|_)([a-z0-9])/g, (_m, _u, c: string) => c.toUpperCase());
}
