// Distributed: a document stored within its tenant's storage quota holds the tenant's lock for the
// check alone; its blob's copy into place (S3 CopyObject) and its record go on outside it, its room
// reserved meanwhile, so the tenant's other stores go on and the quota stays exact.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { deleteRedisPrefix, freshDatabase } from '../support/cluster.ts';
import { requireOrSkip } from '../support/env.ts';
import { startS3Server } from '../support/s3-server.ts';
import { postgresUnavailable, redisUnavailable, TEST_REDIS_URL, uniqueName } from '../support/services.ts';

const missing = (await postgresUnavailable()) ?? (await redisUnavailable());

void test('distributed: a store whose blob is being copied into place holds its room, not the tenant\'s lock', { timeout: 120_000 }, async (t) => {
  if (!requireOrSkip(t, missing === undefined, missing ?? '')) return;
  // The first CopyObject (the first document placed) waits until it is let go.
  let copying!: () => void;
  const copyStarted = new Promise<void>((resolve) => (copying = resolve));
  let letGo!: () => void;
  const copyMayEnd = new Promise<void>((resolve) => (letGo = resolve));
  let copies = 0;
  const s3 = await startS3Server({
    beforeRequest: async ({ method, headers }) => {
      if (method !== 'PUT' || headers['x-amz-copy-source'] === undefined || copies++ > 0) return;
      copying();
      await copyMayEnd;
    },
  });
  const database = await freshDatabase({ migrated: true });
  const prefix = uniqueName('ream_copy_lock');
  const dir = await mkdtemp(join(tmpdir(), 'ream-copy-lock-'));
  try {
    const ream = await createReam({
      dataDir: join(dir, 'data'), threads: 1, work: false,
      distributed: { redisUrl: TEST_REDIS_URL, databaseUrl: database.url, prefix, s3: { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true } },
    });
    const inFlight: Promise<unknown>[] = [];
    try {
      const tenantId = 't1';
      await ream.tenants.setQuotas(tenantId, { storageBytes: 1_000 });
      const store = (text: string, name: string): ReturnType<typeof ream.storeDocument> => ream.storeDocument(Readable.from([Buffer.from(text)]), name, { tenantId, storageQuota: true });

      const slow = store('a'.repeat(600), 'a.txt');
      inFlight.push(slow);
      await copyStarted;
      // Another store of the tenant while the first one's blob is being copied: it goes on.
      const quick = store('b'.repeat(300), 'b.txt');
      inFlight.push(quick);
      const waited = await Promise.race([quick.then(() => 'stored'), new Promise((resolve) => setTimeout(resolve, 15_000, 'waited'))]);
      assert.equal(waited, 'stored', 'a store of the tenant waited for another store\'s copy');
      // The copy in flight holds its room: 600 + 300 stored leave no room for 300 more.
      await rejectsWithCode(store('c'.repeat(300), 'c.txt'), 'quota_exceeded');

      letGo();
      const first = await slow;
      assert.equal(first.size, 600);
      const { usage } = await ream.tenants.tenant(tenantId);
      assert.equal(usage.storageBytes, 900, 'each document counted once, its room released as it was recorded');
    } finally {
      letGo();
      await Promise.allSettled(inFlight);
      await ream.close();
    }
  } finally {
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    await database.drop();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
});
