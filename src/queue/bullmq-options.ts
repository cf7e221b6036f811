import { Redis } from 'ioredis';
import { ReamError } from '../errors.ts';
import { connectAll, REDIS_COMMAND_TIMEOUT_MS } from '../redis-connect.ts';
import { redactUrl } from '../url.ts';
import type { KeepFinished } from './bullmq-task.ts';

export interface BullmqQueueOptions {
  /** redis://… URL. */
  url: string;
  /** Key prefix for every key (BullMQ `prefix`); default 'ream'. Processes sharing work share it. */
  prefix?: string;
  /**
   * How long finished tasks stay in Redis (BullMQ removeOnComplete/removeOnFail): age in ms,
   * default 24 h each, and at most `maxCount` per kind and outcome, default 100,000. Shorter
   * saves memory; dedupe by task id and `counts(jobId)` do not depend on it (ream's records last
   * the longest retention plus a week).
   */
  retention?: Retention;
  /**
   * How often this process checks for expired leases, in ms; default 5,000. A crashed worker's
   * task is re-queued at most this long after its lease ran out; lower costs one Redis round trip
   * per queue and interval in every process.
   */
  stalledCheckMs?: number;
  /**
   * How long a task that `complete` fetched ahead waits for a claim before it is given back, in
   * ms; default 100. Only leases of at least ten times this are fetched ahead. Tests lengthen it
   * to look at a fetched-ahead task before it goes back.
   */
  prefetchHoldMs?: number;
}

export interface Retention {
  completedAgeMs?: number;
  failedAgeMs?: number;
  maxCount?: number;
}

const DAY_MS = 24 * 60 * 60 * 1_000;

/**
 * BullMQ's removeOnComplete/removeOnFail for a retention (defaults: 24 h, at most 100,000 per
 * kind and outcome), and how long ream's records outlive the tasks: the longest retention plus
 * a week. `retentionMs` is the longest retention.
 */
export function keepFinished(retention: Retention = {}): { keep: KeepFinished; retentionMs: number; recordsTtlMs: number } {
  const completedAgeMs = retention.completedAgeMs ?? DAY_MS;
  const failedAgeMs = retention.failedAgeMs ?? DAY_MS;
  const count = retention.maxCount ?? 100_000;
  const retentionMs = Math.max(completedAgeMs, failedAgeMs);
  // BullMQ counts ages in seconds.
  const keep = { removeOnComplete: { age: Math.ceil(completedAgeMs / 1_000), count }, removeOnFail: { age: Math.ceil(failedAgeMs / 1_000), count } };
  return { keep, retentionMs, recordsTtlMs: retentionMs + 7 * DAY_MS };
}


/** Opens the command connection (shared by every BullMQ object) and the subscriber. */
export async function connectRedis(url: string): Promise<[Redis, Redis]> {
  // BullMQ requires `maxRetriesPerRequest: null` on connections its Workers use; a command is
  // still bounded in time (ream claims without blocking commands, so none waits on purpose).
  const redis = new Redis(url, { maxRetriesPerRequest: null, lazyConnect: true, commandTimeout: REDIS_COMMAND_TIMEOUT_MS });
  // Subscribing only: it sends nothing a caller waits for.
  const subscriber = redis.duplicate({ commandTimeout: undefined });
  // Without a listener ioredis prints connection errors; the commands that fail reject anyway
  // (and BullMQ reports its own), so nothing is lost by not printing them.
  for (const connection of [redis, subscriber]) connection.on('error', () => undefined);
  try {
    await connectAll([redis, subscriber]);
  } catch (error) {
    redis.disconnect();
    subscriber.disconnect();
    // A service of the deployment that does not answer: `unavailable`, as PostgreSQL and S3 say it.
    throw new ReamError('unavailable', `cannot connect to Redis at ${redactUrl(url)}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  return [redis, subscriber];
}
