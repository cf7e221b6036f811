import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import type { DistributedSettings } from '../../src/runtime/deployment.ts';
import type { Ream, ReamOptions } from '../../src/runtime/ream.ts';
import { startServer } from '../../src/server/app.ts';
import { deleteRedisPrefix, freshDatabase } from './cluster.ts';
import { requireOrSkip } from './env.ts';
import { startS3Server } from './s3-server.ts';
import { postgresUnavailable, redisUnavailable, TEST_REDIS_URL, uniqueName } from './services.ts';
import { startTcpProxy, type TcpProxy } from './tcp-proxy.ts';

export interface ProxiedService {
  ream: Ream;
  /** The HTTP API's base URL. */
  url: string;
  /** In front of the service named, to make it stop answering (`hang`) and answer again (`pass`). */
  proxy: TcpProxy;
  /** The deployment's own PostgreSQL database, reached directly (not through the proxy). */
  databaseUrl: string;
  /** The deployment with no proxy in between: for another process of it (a worker) that keeps reaching both. */
  direct: DistributedSettings;
}

export interface ProxiedServiceOptions {
  /** Added to the deployment's settings (both the service's and `direct`). */
  distributed?: Partial<DistributedSettings>;
  /** Added to the service's `createReam` options. */
  ream?: Omit<ReamOptions, 'distributed'>;
}

/**
 * A distributed ream (no workers in it) and its HTTP API on a database and Redis prefix of their
 * own, reaching `through` (PostgreSQL or Redis) over a TCP proxy; `body` runs with it, then all
 * is closed and removed, the proxy passing again first. Skips (fails under CI) without the services.
 */
export async function withProxiedService(
  t: TestContext, through: 'postgres' | 'redis', body: (service: ProxiedService) => Promise<void>, options: ProxiedServiceOptions = {},
): Promise<void> {
  const missing = (await postgresUnavailable()) ?? (await redisUnavailable());
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const [s3, database] = [await startS3Server(), await freshDatabase({ migrated: true })];
  const proxied = new URL(through === 'postgres' ? database.url : TEST_REDIS_URL);
  const proxy = await startTcpProxy({ host: proxied.hostname, port: Number(proxied.port || (through === 'postgres' ? 5432 : 6379)) });
  const prefix = uniqueName(`ream_${through}_proxied`);
  const dir = await mkdtemp(join(tmpdir(), 'ream-proxied-'));
  try {
    const direct: DistributedSettings = {
      redisUrl: TEST_REDIS_URL,
      databaseUrl: database.url,
      prefix,
      s3: { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true },
      ...options.distributed,
    };
    const ream = await createReam({
      dataDir: join(dir, 'data'), threads: 1, work: false, ...options.ream,
      distributed: {
        ...direct,
        ...(through === 'redis' ? { redisUrl: proxy.url(TEST_REDIS_URL) } : { databaseUrl: proxy.url(database.url) }),
      },
    });
    const server = await startServer({ ream, host: '127.0.0.1', port: 0, logger: false });
    try {
      await body({ ream, url: server.url, proxy, databaseUrl: database.url, direct });
    } finally {
      proxy.pass();
      await server.close();
      await ream.close();
    }
  } finally {
    await proxy.close();
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    await database.drop();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
}
