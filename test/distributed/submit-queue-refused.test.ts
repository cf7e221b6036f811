// Distributed: a submit whose job is made in PostgreSQL but whose tasks Redis refuses (here at its
// maxmemory, where reads still answer) leaves no job behind, and fails with `unavailable`.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
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

void test('distributed: a refused submit keeps a file it stored that another request stored again meanwhile', { timeout: 120_000 }, async (t) => {
  if (!modeAvailable(t, 'distributed')) return;
  const redis = await startDedicatedRedis();
  const admin = new Redis(redis.url, { maxRetriesPerRequest: 1 });
  try {
    await withModeReam('distributed', { redisUrl: redis.url }, async ({ ream }) => {
      const text = 'stored by two requests at once';
      let standalone: Awaited<ReturnType<typeof ream.storeDocument>> | undefined;
      async function* files(): AsyncIterable<{ stream: Readable; name: string }> {
        yield { stream: Readable.from([Buffer.from(text)]), name: 'shared.txt' };
        // Another request stores the same bytes as a document of its own while this one streams its next file.
        standalone = await ream.storeDocument(Readable.from([Buffer.from(text)]), 'mine.txt', { tenantId: 't' });
        yield { stream: Readable.from([Buffer.from('only this request')]), name: 'own.txt' };
      }
      await admin.config('SET', 'maxmemory', '1');
      await rejectsWithCode(ream.submitJob({ tenantId: 't', pipeline: 'extract', files: files() }), 'unavailable');
      await admin.config('SET', 'maxmemory', '0');
      assert.ok(standalone, 'the other request stored its document');
      assert.ok(await ream.getDocument(standalone.id), 'the document the other request was answered with is kept');
      assert.equal((await ream.tenants.tenant('t')).usage.storageBytes, Buffer.byteLength(text), 'only what this request alone stored is gone');
      const { job } = await ream.submitJob({ tenantId: 't', pipeline: 'extract', files: [{ documentId: standalone.id }] });
      assert.equal((await ream.wait(job.id)).status, 'succeeded', 'its bytes are still there to read');
    });
  } finally {
    admin.disconnect();
    await redis.destroy();
  }
});
