// The storage quota's count of a tenant's unfinished uploads reads only that tenant's uploads,
// stays exact when they end, after a restart, and across the instances of a distributed deployment.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { DEFAULT_TENANT } from '../../src/store/port.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { storeUploadRecords } from '../../src/server/uploads/records.ts';
import { embeddedTusStorage, type TusStorage } from '../../src/server/uploads/storage.ts';
import { distributedTusStorage } from '../../src/server/uploads/distributed-storage.ts';
import { modeAvailable, withModeReam } from '../support/modes.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

const TUS = { 'tus-resumable': '1.0.0' };

function create(server: RunningServer, key: string | undefined, length: number): Promise<Response> {
  const auth: Record<string, string> = key === undefined ? {} : { authorization: `Bearer ${key}` };
  return fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, ...auth, 'upload-length': String(length) } });
}

/** The embedded storage over `dir`, counting the upload metadata it reads. */
function countingStorage(ream: Ream, dir: string): { storage: TusStorage; reads: () => number } {
  const storage = embeddedTusStorage(dir, 60_000, storeUploadRecords(ream.uploads));
  let reads = 0;
  const getUpload = storage.datastore.getUpload.bind(storage.datastore);
  storage.datastore.getUpload = (id) => {
    reads += 1;
    return getUpload(id);
  };
  return { storage, reads: () => reads };
}

void test('a creation under a storage quota reads the metadata of its tenant\'s unfinished uploads only, and counts them after a restart', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'ream-tus-index-'));
  const ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  const keys = await issueTenantKeys(ream);
  const uploadsDir = join(dir, 'uploads');
  let counting = countingStorage(ream, uploadsDir);
  let server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, tusStorage: counting.storage });
  try {
    await ream.tenants.setQuotas('tenant-a', { storageBytes: 3000 });
    for (let i = 0; i < 40; i++) assert.equal((await create(server, keys.b, 100)).status, 201, 'another tenant\'s uploads, left open');
    assert.equal((await create(server, keys.a, 1000)).status, 201);
    const before = counting.reads();
    assert.equal((await create(server, keys.a, 1000)).status, 201);
    assert.ok(counting.reads() - before <= 2, `${counting.reads() - before} metadata reads for a creation beside 1 upload of its tenant and 40 of another`);
    assert.equal((await create(server, keys.a, 1001)).status, 429, 'the two unfinished ones hold 2,000 of the 3,000');

    // A restart over the same folder: the uploads left open still count.
    await server.close();
    counting = countingStorage(ream, uploadsDir);
    server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, tusStorage: counting.storage });
    assert.equal((await create(server, keys.a, 1001)).status, 429, 'after a restart');
    const before2 = counting.reads();
    assert.equal((await create(server, keys.a, 1000)).status, 201);
    assert.ok(counting.reads() - before2 <= 3, `${counting.reads() - before2} metadata reads after the first count`);
  } finally {
    await server.close();
    await ream.close();
    await rm(dir, { recursive: true, force: true });
  }
});

void test('two instances of a distributed deployment count each other\'s unfinished uploads, and the room a DELETE gives back', { timeout: 120_000 }, async (t) => {
  if (!modeAvailable(t, 'distributed')) return;
  await withModeReam('distributed', { work: false }, async ({ ream }) => {
    const [a, b] = [await startServer({ ream, host: '127.0.0.1', port: 0 }), await startServer({ ream, host: '127.0.0.1', port: 0 })];
    try {
      await ream.tenants.setQuotas(DEFAULT_TENANT, { storageBytes: 3000 });
      const first = await create(a, undefined, 1200);
      assert.equal(first.status, 201);
      // Sent at once to both instances: room for one more of four.
      const atOnce = await Promise.all([a, b, a, b].map((server) => create(server, undefined, 1200)));
      assert.deepEqual(atOnce.map((answer) => answer.status).sort(), [201, 429, 429, 429]);
      assert.equal((await fetch(new URL(first.headers.get('location') ?? '', a.url), { method: 'DELETE', headers: TUS })).status, 204);
      assert.equal((await create(b, undefined, 1200)).status, 201, 'the room the DELETE on A gave back, seen by B');
      assert.equal((await create(a, undefined, 1200)).status, 429);
      // A third instance, started later, counts the uploads the others left open.
      const c = await startServer({ ream, host: '127.0.0.1', port: 0 });
      try {
        assert.equal((await create(c, undefined, 700)).status, 429);
        assert.equal((await create(c, undefined, 600)).status, 201);
      } finally {
        await c.close();
      }
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

void test('in a distributed deployment, a creation under a storage quota reads its tenant\'s declared lengths without listing each upload\'s parts', { timeout: 120_000 }, async (t) => {
  if (!modeAvailable(t, 'distributed')) return;
  await withModeReam('distributed', { work: false }, async ({ ream }) => {
    const deployment = ream.deployment;
    assert.ok(deployment);
    const storage = await distributedTusStorage({
      s3: deployment.s3, redisUrl: deployment.redisUrl, prefix: deployment.prefix ?? 'ream', expiryMs: 60_000, records: storeUploadRecords(ream.uploads),
    });
    // Each getUpload lists the upload's parts in S3 (and looks for its incomplete part): what made a
    // creation beside 100 open uploads take 1 to 2 s.
    let offsetReads = 0;
    const getUpload = storage.datastore.getUpload.bind(storage.datastore);
    storage.datastore.getUpload = (id) => {
      offsetReads += 1;
      return getUpload(id);
    };
    const server = await startServer({ ream, host: '127.0.0.1', port: 0, tusStorage: storage });
    try {
      for (let i = 0; i < 10; i++) assert.equal((await create(server, undefined, 100)).status, 201);
      await ream.tenants.setQuotas(DEFAULT_TENANT, { storageBytes: 1250 });
      assert.equal((await create(server, undefined, 200)).status, 201, 'the first count: 1,000 held, room for 250');
      const before = offsetReads;
      assert.equal((await create(server, undefined, 60)).status, 429, '1,200 held: no room for 60');
      assert.ok(offsetReads - before <= 1, `${offsetReads - before} offset reads for a creation beside 11 uploads of known length`);
    } finally {
      await server.close();
      await storage.close();
    }
  });
});
