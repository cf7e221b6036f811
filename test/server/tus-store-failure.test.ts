// An upload in progress whose store fails for a moment is an error, never "no such upload": its
// tenant check (which decides who may touch it) must not be skipped, and its owner must not be
// told it is gone.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam } from '../../src/runtime/create-ream.ts';
import { startServer } from '../../src/server/app.ts';
import { deleteRedisPrefix, freshDatabase } from '../support/cluster.ts';
import { modeAvailable } from '../support/modes.ts';
import { startS3Server } from '../support/s3-server.ts';
import { TEST_REDIS_URL, uniqueName } from '../support/services.ts';

const TUS = { 'tus-resumable': '1.0.0' };

void test('distributed: while S3 fails, an upload in progress answers a server error, not 404, and is found again after', { timeout: 120_000 }, async (t) => {
  if (!modeAvailable(t, 'distributed')) return;
  let failing = false;
  const s3 = await startS3Server({
    beforeRequest: () => (failing ? Promise.reject(new Error('the disk under the bucket failed')) : Promise.resolve()),
  });
  const database = await freshDatabase({ migrated: true });
  const dir = await mkdtemp(join(tmpdir(), 'ream-tus-store-failure-'));
  const prefix = uniqueName('ream_tusfail');
  const ream = await createReam({
    dataDir: join(dir, 'data'), threads: 1, work: false,
    distributed: { redisUrl: TEST_REDIS_URL, databaseUrl: database.url, prefix, s3: { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true } },
  });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0 });
  try {
    const created = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': '1000' } });
    assert.equal(created.status, 201, await created.clone().text());
    const url = new URL(created.headers.get('location') ?? '', server.url).href;
    const patched = await fetch(url, { method: 'PATCH', headers: { ...TUS, 'upload-offset': '0', 'content-type': 'application/offset+octet-stream' }, body: Buffer.alloc(400, 0x25) });
    assert.equal(patched.status, 204, await patched.text());
    const id = url.split('/').pop() ?? '';
    assert.equal((await fetch(`${server.url}/v1/uploads/${id}`)).status, 200);

    failing = true;
    const during = await fetch(`${server.url}/v1/uploads/${id}`);
    const body = await during.text();
    assert.ok(during.status >= 500, `a failing store is a server error, not "no such upload": ${during.status} ${body}`);
    const head = await fetch(url, { method: 'HEAD', headers: TUS });
    assert.notEqual(head.status, 404, 'tus HEAD does not say it is gone either');

    failing = false;
    const after = await fetch(`${server.url}/v1/uploads/${id}`);
    assert.equal(after.status, 200);
    assert.equal((await after.json() as { offset: number }).offset, 400);
  } finally {
    failing = false;
    await server.close();
    await ream.close();
    await deleteRedisPrefix(TEST_REDIS_URL, prefix);
    await database.drop();
    await s3.close();
    await rm(dir, { recursive: true, force: true });
  }
});
