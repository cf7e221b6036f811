import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { ReamClient } from '../../src/client/index.ts';
import type { ReamEvent } from '../../src/events/types.ts';
import { checkRedisSettings } from '../../src/runtime/redis-settings.ts';
import { startCluster } from '../support/cluster.ts';
import { hasCommand, requireOrSkip } from '../support/env.ts';
import { numberedPages, writePdf } from '../support/make-pdf.ts';
import { startDedicatedRedis } from '../support/redis-server.ts';
import { TEST_REDIS_URL, postgresUnavailable, redisUnavailable } from '../support/services.ts';
import { checkBatch, waitFor } from './batch-checks.ts';

const missing = (await postgresUnavailable()) ?? (hasCommand('redis-server') ? undefined : 'redis-server (Debian package redis-server)');

void test('Redis restarted mid-run (AOF on a spare port): every process reconnects and every job completes, nothing lost', { timeout: 900_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  const dir = await mkdtemp(join(tmpdir(), 'ream-redis-restart-'));
  const redis = await startDedicatedRedis();
  try {
    assert.deepEqual(await checkRedisSettings(redis.url), [], 'the dedicated Redis has the settings ream requires');
    const cluster = await startCluster({ workers: 2, redisUrl: redis.url, workerArgs: ['--concurrency', '2', '--threads', '1', '--lease', '3'] });
    try {
      assert.doesNotMatch(cluster.output(), /appendonly/, 'no settings warning for a Redis with AOF');
      const files: string[] = [];
      for (let i = 1; i <= 3; i++) {
        const path = join(dir, `doc-${i}.pdf`);
        await writePdf(path, { pages: numberedPages(`doc ${i}`, 40 * i) });
        files.push(path);
      }
      const client = new ReamClient({ baseUrl: cluster.server.url });
      const job = await client.submit({ files, pipeline: 'slow', options: { chunkPages: 5, msPerPage: 40 } });
      const events: ReamEvent[] = [];
      const following = (async () => {
        for await (const event of client.events(job.id)) events.push(event);
      })();
      await waitFor(() => Promise.resolve(events.filter((e) => e.type === 'chunk.completed').length >= 4 ? true : undefined), 120_000, () => cluster.output());

      await redis.stop();
      t.diagnostic(`Redis stopped after ${events.length} events`);
      await new Promise((resolve) => setTimeout(resolve, 2_000));
      await redis.start();
      t.diagnostic('Redis started again from its AOF');

      const finished = await client.wait(job.id, { signal: AbortSignal.timeout(180_000) });
      await following;
      assert.equal(finished.status, 'succeeded', cluster.output());
      await checkBatch(client, job.id, events, files.length, () => cluster.output());

      // A job submitted after the restart runs too: the queue works, not only the old jobs.
      const after = await client.submit({ files: [files[0] ?? ''], pipeline: 'slow', options: { chunkPages: 10, msPerPage: 1 } });
      assert.equal((await client.wait(after.id, { signal: AbortSignal.timeout(60_000) })).status, 'succeeded');
    } finally {
      await cluster.stop();
    }
  } finally {
    await redis.destroy();
    await rm(dir, { recursive: true, force: true });
  }
});

void test('checkRedisSettings warns about a Redis without AOF', async (t) => {
  const redisMissing = await redisUnavailable();
  if (!requireOrSkip(t, redisMissing === undefined, redisMissing ?? '')) return;
  const warnings = await checkRedisSettings(TEST_REDIS_URL);
  const redis = new Redis(TEST_REDIS_URL);
  const [, appendonly] = (await redis.call('CONFIG', 'GET', 'appendonly')) as string[];
  redis.disconnect();
  // The machine's test Redis keeps nothing on disk: exactly the setting ream warns about.
  assert.equal(warnings.some((w) => w.includes('appendonly=no')), appendonly === 'no', warnings.join('\n'));
  const unreachable = await checkRedisSettings('redis://:secret@127.0.0.1:1');
  assert.equal(unreachable.length, 1);
  assert.match(unreachable[0] ?? '', /could not check/);
  assert.doesNotMatch(unreachable[0] ?? '', /secret/);
});
