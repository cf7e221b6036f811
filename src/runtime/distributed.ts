import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqlAnalysisStore } from '../analyzers/store/sql-analysis-store.ts';
import { BlobFiles } from '../blobs/local-copy.ts';
import { S3BlobStore } from '../blobs/s3-blob-store.ts';
import { RedisEventBus } from '../events/redis-event-bus.ts';
import { createFormats } from '../formats/registry.ts';
import { BullmqQueue } from '../queue/bullmq-queue.ts';
import { PostgresSearch } from '../search/postgres-search.ts';
import { openPostgresDatabase, POSTGRES_QUERY_TIMEOUT_MS } from '../sql/postgres-database.ts';
import { PostgresStore } from '../store/postgres-store.ts';
import type { Adapters } from './adapters.ts';
import type { DistributedSettings } from './deployment.ts';
import { checkRedisSettings } from './redis-settings.ts';
import { createThreadPool } from './thread-pool.ts';

export interface DistributedAdapterSettings extends DistributedSettings {
  threads: number;
  taskTimeoutMs: number;
  maxMemoryMb: number;
  /**
   * Local folder for copies of the blobs this process parses: one per process (copies in use are
   * never evicted by another process), removed on close. Default: under the OS temp dir.
   */
  cacheDir?: string;
  /** Most bytes of blob copies kept in `cacheDir`. Default 2 GiB. */
  cacheMaxBytes?: number;
}

/** Brings the tables up to date on a connection of their own, unbounded: they may wait on another process's lock or build an index. */
async function migrateDistributed(url: string): Promise<void> {
  const database = await openPostgresDatabase(url);
  try {
    await PostgresStore.open(database);
    await PostgresSearch.open(database);
    await SqlAnalysisStore.open(database.kysely, 'postgres', database.schema);
  } finally {
    await database.close();
  }
}

/**
 * Distributed mode: the queue on BullMQ (Redis), records, events and search on PostgreSQL
 * (migrated on open; migrations take a lock, so processes starting together are safe), blobs on
 * S3 with local copies for parsing, live events over Redis pub/sub. Job status changes need no
 * lock: they are conditional updates in PostgreSQL. Every process of a deployment opens the same.
 */
export async function openDistributedAdapters(settings: DistributedAdapterSettings): Promise<Adapters> {
  const prefix = settings.prefix ?? 'ream';
  const closers: (() => Promise<void>)[] = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
    closers.length = 0;
  };
  try {
    const warnings = await checkRedisSettings(settings.redisUrl);
    await migrateDistributed(settings.databaseUrl);
    // Migrated: no statement of a request or task should take longer.
    const database = await openPostgresDatabase(settings.databaseUrl, { queryTimeoutMs: settings.queryTimeoutMs ?? POSTGRES_QUERY_TIMEOUT_MS });
    closers.push(() => database.close());
    const store = await PostgresStore.open(database);
    const search = await PostgresSearch.open(database);
    const analysis = await SqlAnalysisStore.open(database.kysely, 'postgres', database.schema);
    const queue = await BullmqQueue.open({ url: settings.redisUrl, prefix });
    closers.push(() => queue.close());
    const bus = await RedisEventBus.open({ url: settings.redisUrl, prefix });
    closers.push(() => bus.close());
    const blobs = await S3BlobStore.open({ ...settings.s3, prefix: 'blobs/' });
    const pool = createThreadPool({ threads: settings.threads, taskTimeoutMs: settings.taskTimeoutMs, maxMemoryMb: settings.maxMemoryMb });
    closers.push(() => pool.destroy());
    const cacheDir = settings.cacheDir ?? join(tmpdir(), `ream-blob-cache-${process.pid}`);
    closers.push(() => rm(cacheDir, { recursive: true, force: true }));
    const blobFiles = new BlobFiles(blobs, {
      dir: cacheDir,
      maxBytes: settings.cacheMaxBytes ?? 2 * 1024 ** 3,
    });
    return {
      deps: { store, queue, search, bus, analysis, blobs, blobFiles, formats: createFormats(pool) },
      releaseLeases: () => Promise.resolve(0),
      warnings,
      close: closeAll,
    };
  } catch (error) {
    await closeAll();
    throw error;
  }
}
