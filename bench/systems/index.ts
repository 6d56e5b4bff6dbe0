/**
 * The systems compared, in report order. `ours` comes first; every other entry is a peer. Adapters are
 * loaded lazily so a worker process imports only the library it runs.
 */
import type { SystemSpec } from './types';

export const OURS = 'ours';

export const SYSTEMS: readonly SystemSpec[] = [
  {
    id: OURS,
    label: 'nest-tenant-jobs',
    backend: 'postgres',
    concurrency: 10,
    scale: true,
    config:
      'Nest app context + TypeORM + nestjs-cls; tenant clsKey, class-validator payload; defaults' +
      (process.env.BENCH_OURS_WORKER ? `; worker overrides ${process.env.BENCH_OURS_WORKER}` : ''),
    create: async () => new (await import('./ours')).OursSystem(),
  },
  {
    id: 'graphile',
    label: 'graphile-worker',
    backend: 'postgres',
    concurrency: 10,
    scale: false,
    config: 'defaults, concurrency 10',
    create: async () =>
      new (await import('./graphile-worker')).GraphileWorkerSystem({ fast: false }),
  },
  {
    id: 'graphile-fast',
    label: 'graphile-worker fast',
    backend: 'postgres',
    concurrency: 10,
    scale: true,
    config: 'concurrency 10, localQueue.size 500, completeJobBatchDelay 0, failJobBatchDelay 0',
    create: async () =>
      new (await import('./graphile-worker')).GraphileWorkerSystem({ fast: true }),
  },
  {
    id: 'pg-boss',
    label: 'pg-boss',
    backend: 'postgres',
    concurrency: 10,
    scale: false,
    config: 'useListenNotify, queue notify, batchSize 50, localConcurrency 10, burstWhenBatchFull',
    create: async () => new (await import('./pg-boss')).PgBossSystem(),
  },
  {
    id: 'bullmq-c10',
    label: 'BullMQ c10',
    backend: 'redis',
    concurrency: 10,
    scale: false,
    config: 'Redis 127.0.0.1:6379, concurrency 10',
    create: async () => new (await import('./bullmq')).BullMqSystem(),
  },
  {
    id: 'bullmq-c50',
    label: 'BullMQ c50',
    backend: 'redis',
    concurrency: 50,
    scale: false,
    config: 'Redis 127.0.0.1:6379, concurrency 50',
    create: async () => new (await import('./bullmq')).BullMqSystem(),
  },
];

/**
 * The same systems through PgBouncer in transaction mode (`--pgbouncer`), each right after its direct
 * self in the report: `<id>@pgbouncer`. Ours twice: LISTEN on a direct connection, and poll-only.
 */
export const PGBOUNCER_VARIANTS: readonly SystemSpec[] = [
  {
    id: `${OURS}@pgbouncer`,
    label: 'nest-tenant-jobs via PgBouncer',
    backend: 'postgres',
    via: 'pgbouncer',
    concurrency: 10,
    scale: true,
    config:
      "as ours, through PgBouncer 1.18 transaction mode: database.pooler 'transaction', listen direct URL",
    create: async () => new (await import('./ours')).OursSystem('pgbouncer'),
  },
  {
    id: `${OURS}@pgbouncer-poll`,
    label: 'nest-tenant-jobs via PgBouncer, poll-only',
    backend: 'postgres',
    via: 'pgbouncer',
    concurrency: 10,
    scale: false,
    config: "as ours, through PgBouncer: database.pooler 'transaction', no listen (poll 250 ms)",
    create: async () => new (await import('./ours')).OursSystem('pgbouncer-poll'),
  },
  {
    id: 'graphile-fast@pgbouncer',
    label: 'graphile-worker fast via PgBouncer',
    backend: 'postgres',
    via: 'pgbouncer',
    concurrency: 10,
    scale: false,
    config:
      'fast config through PgBouncer: noPreparedStatements (its setting for poolers); its LISTEN ' +
      'connection is pooled, so it is woken by polling (pollInterval 2 s)',
    create: async () =>
      new (await import('./graphile-worker')).GraphileWorkerSystem({
        fast: true,
        preparedStatements: false,
      }),
  },
  {
    id: 'pg-boss@pgbouncer',
    label: 'pg-boss via PgBouncer',
    backend: 'postgres',
    via: 'pgbouncer',
    concurrency: 10,
    scale: false,
    config: 'as pg-boss, through PgBouncer (its LISTEN connection is pooled)',
    create: async () => new (await import('./pg-boss')).PgBossSystem(),
  },
];

export function systemById(id: string): SystemSpec {
  const spec = [...SYSTEMS, ...PGBOUNCER_VARIANTS].find((s) => s.id === id);
  if (!spec)
    throw new Error(`Unknown system "${id}" (known: ${SYSTEMS.map((s) => s.id).join(', ')})`);
  return spec;
}

/** The PgBouncer variants of `systems`, each placed after its direct self. */
export function withPgBouncerVariants(systems: readonly SystemSpec[]): SystemSpec[] {
  return systems.flatMap((s) => [
    s,
    ...PGBOUNCER_VARIANTS.filter((v) => v.id.split('@')[0] === s.id),
  ]);
}
