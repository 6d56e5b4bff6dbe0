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

export function systemById(id: string): SystemSpec {
  const spec = SYSTEMS.find((s) => s.id === id);
  if (!spec)
    throw new Error(`Unknown system "${id}" (known: ${SYSTEMS.map((s) => s.id).join(', ')})`);
  return spec;
}
