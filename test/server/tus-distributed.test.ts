import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type Server as HttpServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { Server } from '@tus/server';
import { Redis } from 'ioredis';
import { Upload } from 'tus-js-client';
import { s3ClientConfig } from '../../src/blobs/s3-client.ts';
import type { UploadRecord } from '../../src/server/uploads/records.ts';
import { TUS_OBJECT_PREFIX, distributedTusStorage } from '../../src/server/uploads/distributed-storage.ts';
import type { TusStorage } from '../../src/server/uploads/storage.ts';
import { isCI } from '../support/env.ts';
import { startS3Server, type TestS3Server } from '../support/s3-server.ts';
import { TEST_REDIS_URL, redisUnavailable, uniqueName } from '../support/services.ts';

const unavailable = await redisUnavailable();
const skip = unavailable !== undefined && !isCI ? `skipped: ${unavailable} is not available` : false;
const MiB = 1024 * 1024;

/** Records are not what this test is about: an in-memory stand-in for the database's. */
function memoryRecords() {
  const records = new Map<string, UploadRecord>();
  return {
    get: (id: string) => Promise.resolve(records.get(id)),
    put: (record: UploadRecord) => Promise.resolve(void records.set(record.id, record)),
    delete: (id: string) => Promise.resolve(records.delete(id)),
    deleteFailedBefore: () => Promise.resolve(0),
  };
}

interface Instance {
  url: string;
  storage: TusStorage;
  http: HttpServer;
}

let s3: TestS3Server;
const instances: Instance[] = [];
const prefixes = new Set<string>();
before(async () => {
  s3 = await startS3Server();
});
after(async () => {
  for (const instance of instances) {
    await new Promise((resolve) => instance.http.close(resolve));
    await instance.storage.close();
  }
  await s3.close();
  // The shared upload metadata and any lock left in Redis go too.
  const redis = new Redis(TEST_REDIS_URL);
  for (const prefix of prefixes) {
    const keys = await redis.keys(`${prefix}:*`);
    if (keys.length > 0) await redis.del(...keys);
  }
  await redis.quit();
});

/** One server instance: its own @tus/server, Redis connections and S3 client over the shared bucket and Redis prefix. */
async function startInstance(prefix: string): Promise<Instance> {
  prefixes.add(prefix);
  const storage = await distributedTusStorage({
    s3: { bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true },
    redisUrl: TEST_REDIS_URL,
    prefix,
    expiryMs: 60_000,
    records: memoryRecords(),
    partSizeBytes: 5 * MiB,
  });
  const tus = new Server({ path: '/files', datastore: storage.datastore, locker: storage.locker });
  const http = createServer((req, res) => void tus.handle(req, res));
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const instance = { url: `http://127.0.0.1:${(http.address() as AddressInfo).port}`, storage, http };
  instances.push(instance);
  return instance;
}

function data(size: number): Buffer {
  const bytes = Buffer.alloc(size);
  for (let i = 0; i + 4 <= size; i += 4) bytes.writeUInt32LE((i * 2654435761) >>> 0, i);
  return bytes;
}

void test('tus: an upload begun on one instance is finished through another (S3 + Redis)', { skip }, async () => {
  const prefix = uniqueName('ream_tus');
  const [a, b] = [await startInstance(prefix), await startInstance(prefix)];
  const file = data(13 * MiB + 17);

  // Instance A takes the first 6 MiB, then the client goes away.
  const uploadUrl = await new Promise<string>((resolve, reject) => {
    const upload: Upload = new Upload(file, {
      endpoint: `${a.url}/files`,
      chunkSize: 6 * MiB,
      metadata: { filename: 'big.bin' },
      onError: reject,
      onChunkComplete: () => {
        void upload.abort().then(() => resolve(upload.url ?? ''), reject);
      },
    });
    upload.start();
  });
  assert.ok(uploadUrl.startsWith(a.url));
  const id = uploadUrl.slice(uploadUrl.lastIndexOf('/') + 1);

  // Instance B knows it from the shared metadata and takes the rest.
  const resumed = `${b.url}/files/${id}`;
  const head = await fetch(resumed, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
  assert.equal(head.status, 200);
  assert.equal(head.headers.get('upload-offset'), String(6 * MiB));
  await new Promise<void>((resolve, reject) => {
    new Upload(file, { uploadUrl: resumed, chunkSize: 6 * MiB, onError: reject, onSuccess: () => resolve() }).start();
  });

  const read = await b.storage.datastore.read(id);
  const hash = createHash('sha256');
  for await (const piece of read) hash.update(piece as Buffer);
  assert.equal(hash.digest('hex'), createHash('sha256').update(file).digest('hex'), 'the bytes went through two instances intact');
  assert.equal((await a.storage.datastore.getUpload(id)).offset, file.byteLength, 'A sees the finished upload too');

  const client = new S3Client(s3ClientConfig({ bucket: s3.bucket, endpoint: s3.endpoint, credentials: s3.credentials, forcePathStyle: true }));
  try {
    const keys = ((await client.send(new ListObjectsV2Command({ Bucket: s3.bucket }))).Contents ?? []).map((o) => o.Key ?? '');
    assert.ok(keys.length > 0 && keys.every((key) => key.startsWith(TUS_OBJECT_PREFIX)), `objects outside ${TUS_OBJECT_PREFIX}: ${keys.join(', ')}`);
    assert.ok(keys.includes(`${TUS_OBJECT_PREFIX}${id}`));
  } finally {
    client.destroy();
  }
});

void test('tus: creation-defer-length, the length given with a later PATCH, ends intact (the shared metadata learns the length)', { skip }, async () => {
  const prefix = uniqueName('ream_tus');
  const [a, b] = [await startInstance(prefix), await startInstance(prefix)];
  const file = data(1_000_000 + 3);
  const created = await fetch(`${a.url}/files`, { method: 'POST', headers: { 'Tus-Resumable': '1.0.0', 'Upload-Defer-Length': '1' } });
  assert.equal(created.status, 201);
  const id = (created.headers.get('location') ?? '').split('/').at(-1) ?? '';
  const patch = (url: string, offset: number, bytes: Buffer, length?: number): Promise<Response> => fetch(`${url}/files/${id}`, {
    method: 'PATCH',
    headers: { 'Tus-Resumable': '1.0.0', 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset), ...(length === undefined ? {} : { 'Upload-Length': String(length) }) },
    body: bytes,
  });
  assert.equal((await patch(a.url, 0, file.subarray(0, 500_000))).status, 204);
  const last = await patch(b.url, 500_000, file.subarray(500_000), file.byteLength);
  assert.equal(last.status, 204, await last.text());
  assert.equal(last.headers.get('upload-offset'), String(file.byteLength));
  const upload = await a.storage.datastore.getUpload(id);
  assert.deepEqual([upload.size, upload.offset], [file.byteLength, file.byteLength], 'every instance knows the length now');
  const hash = createHash('sha256');
  for await (const piece of await b.storage.datastore.read(id)) hash.update(piece as Buffer);
  assert.equal(hash.digest('hex'), createHash('sha256').update(file).digest('hex'));
});
