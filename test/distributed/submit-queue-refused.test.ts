// Distributed: a submit whose job is made in PostgreSQL but whose tasks Redis refuses (here at its
// maxmemory, where reads still answer) leaves no job behind, and fails with `unavailable`.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { Redis } from 'ioredis';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { modeAvailable, withModeReam } from '../support/modes.ts';
import { startDedicatedRedis } from '../support/redis-server.ts';

void test('distributed: a job whose tasks the queue refuses is not left behind; its key makes the job once the queue takes writes again', { timeout: 120_000 }, async (t) => {
  if (!modeAvailable(t, 'distributed')) return;
  const redis = await startDedicatedRedis();
  const dir = await mkdtemp(join(tmpdir(), 'ream-queue-refused-'));
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    const file = join(dir, 'note.txt');
    await writeFile(file, 'refused by the queue');
    await withModeReam('distributed', { redisUrl: redis.url }, async ({ ream }) => {
      const request = { tenantId: 't', pipeline: 'extract', files: [file], key: 'once' };
      await admin.config('SET', 'maxmemory', '1');
      await rejectsWithCode(ream.submit(request), 'unavailable', /the queue did not take the job's tasks \(OOM command not allowed.*\); no job was made, send the request again/);
      assert.deepEqual((await ream.listJobs({ tenantId: 't', limit: 10 })).items, [], 'no job listed');
      assert.equal((await ream.tenants.tenant('t')).usage.storageBytes, 0, 'the file stored for it is gone with it');
      await admin.config('SET', 'maxmemory', '0');
      const job = await ream.submit(request);
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
    });
  } finally {
    admin.disconnect();
    await redis.destroy();
    await rm(dir, { recursive: true, force: true });
  }
});
