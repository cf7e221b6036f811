import { Redis } from 'ioredis';
import { redactUrl } from '../url.ts';

/**
 * What ream needs of the Redis that holds its queue (BullMQ's production advice): writes kept
 * on disk (AOF), so a restart loses no task, and `maxmemory-policy noeviction`, so Redis never
 * drops a queue key to make room. Returns warnings to print; empty when all is well. A Redis
 * that hides CONFIG (some managed services) gets one warning saying it could not be checked.
 */
export async function checkRedisSettings(url: string): Promise<string[]> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, enableOfflineQueue: false, retryStrategy: () => null });
  redis.on('error', () => undefined); // reported through the failed command below
  try {
    await redis.connect();
    const read = async (name: string): Promise<string | undefined> => {
      const reply = (await redis.call('CONFIG', 'GET', name)) as string[];
      return reply[1];
    };
    const warnings: string[] = [];
    const appendonly = await read('appendonly');
    if (appendonly !== 'yes') {
      warnings.push(`Redis at ${redactUrl(url)} has appendonly=${appendonly ?? '?'}: queued tasks are lost if Redis restarts; set "appendonly yes" (see docs/deployment.md)`);
    }
    const policy = await read('maxmemory-policy');
    if (policy !== 'noeviction') {
      warnings.push(`Redis at ${redactUrl(url)} has maxmemory-policy=${policy ?? '?'}: Redis may evict queue keys under memory pressure; set "maxmemory-policy noeviction"`);
    }
    return warnings;
  } catch (error) {
    return [`could not check the settings of Redis at ${redactUrl(url)} (${error instanceof Error ? error.message : String(error)}); ream needs appendonly yes and maxmemory-policy noeviction`];
  } finally {
    redis.disconnect();
  }
}
