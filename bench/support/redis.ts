/** The benchmark's Redis: its URL, the key prefix of every bench queue, and cleanup of their keys. */
import { Redis } from 'ioredis';

/** Every BullMQ key of the bench lives under `benchq:<queue name>:`. */
export const KEY_PREFIX = 'benchq';

export function redisUrl(): string {
  return process.env.BENCH_REDIS_URL || 'redis://127.0.0.1:6379';
}

async function withRedis<T>(fn: (redis: Redis) => Promise<T>): Promise<T> {
  const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
  try {
    return await fn(redis);
  } finally {
    redis.disconnect();
  }
}

/** Deletes every key of the bench queue `name` (a glob: `bench_x*` covers a whole bench run). */
export function deleteQueueKeys(name: string): Promise<number> {
  return withRedis(async (redis) => {
    let deleted = 0;
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(
        cursor,
        'MATCH',
        `${KEY_PREFIX}:${name}:*`,
        'COUNT',
        1000,
      );
      cursor = next;
      if (keys.length > 0) deleted += await redis.del(...keys);
    } while (cursor !== '0');
    return deleted;
  });
}

export async function redisVersion(): Promise<string> {
  try {
    const info = await withRedis((redis) => redis.info('server'));
    return /redis_version:(\S+)/.exec(info)?.[1] ?? 'unknown';
  } catch (error) {
    return `unavailable (${(error as Error).message})`;
  }
}
