import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createReam, type Ream, type ReamOptions } from '../../src/runtime/create-ream.ts';
import { deleteRedisPrefix, freshDatabase } from './cluster.ts';
import { requireOrSkip } from './env.ts';
import { startS3Server, type TestS3Server } from './s3-server.ts';
import { postgresUnavailable, redisUnavailable, TEST_REDIS_URL, uniqueName } from './services.ts';

export type Mode = 'embedded' | 'distributed';
export const MODES: readonly Mode[] = ['embedded', 'distributed'];

const unavailable = (await postgresUnavailable()) ?? (await redisUnavailable());

/** False (and the test skipped, or failed under CI) when the mode's services are missing. */
export function modeAvailable(t: TestContext, mode: Mode): boolean {
  return mode === 'embedded' || requireOrSkip(t, unavailable === undefined, unavailable ?? '');
}

export interface ModeReam {
  ream: Ream;
  /** The bucket's server (distributed only). */
  s3?: TestS3Server;
  /** The deployment's Redis key prefix (distributed only). */
  prefix?: string;
}

/**
 * A ream of the mode over fresh places (a temp data dir; distributed: a fresh database, Redis
 * prefix — on the test Redis, or `redisUrl` — and s3rver bucket), handed to `use`, then closed
 * and everything removed.
 */
export async function withModeReam(mode: Mode, options: Omit<ReamOptions, 'dataDir' | 'distributed'> & { redisUrl?: string }, use: (opened: ModeReam) => Promise<void>): Promise<void> {
  const { redisUrl = TEST_REDIS_URL, ...reamOptions } = options;
  const dir = await mkdtemp(join(tmpdir(), `ream-${mode}-`));
  const prefix = uniqueName('ream_mode');
  let s3: TestS3Server | undefined;
  let database: Awaited<ReturnType<typeof freshDatabase>> | undefined;
  try {
    let ream: Ream;
    if (mode === 'embedded') {
      ream = await createReam({ dataDir: join(dir, 'data'), threads: 1, ...reamOptions });
    } else {
      [s3, database] = [await startS3Server(), await freshDatabase({ migrated: true })];
      ream = await createReam({
        dataDir: join(dir, 'data'), threads: 1, ...reamOptions,
        distributed: { redisUrl, databaseUrl: database.url, prefix, s3: { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true } },
      });
    }
    try {
      await use({ ream, ...(s3 === undefined ? {} : { s3, prefix }) });
    } finally {
      await ream.close();
    }
  } finally {
    if (mode === 'distributed') await deleteRedisPrefix(redisUrl, prefix);
    await database?.drop();
    await s3?.close();
    await rm(dir, { recursive: true, force: true });
  }
}
