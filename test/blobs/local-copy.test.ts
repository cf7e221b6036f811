import assert from 'node:assert/strict';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { BlobFiles } from '../../src/blobs/local-copy.ts';
import type { BlobStore } from '../../src/blobs/port.ts';
import { S3BlobStore } from '../../src/blobs/s3-blob-store.ts';
import { startS3Server, type TestS3Server } from '../support/s3-server.ts';
import { uniqueName } from '../support/services.ts';

let server: TestS3Server;
before(async () => {
  server = await startS3Server();
});
after(() => server.close());

/** An S3 store that counts the blob reads (downloads) that reach it. */
function countingS3(): { blobs: BlobStore; gets: () => number; close: () => void } {
  const s3 = new S3BlobStore({
    bucket: server.bucket, endpoint: server.endpoint, credentials: server.credentials, forcePathStyle: true, prefix: `${uniqueName('copy')}/`,
  });
  let gets = 0;
  const blobs: BlobStore = {
    name: 'counting-s3',
    put: (source, options) => s3.put(source, options),
    get: (sha256, range) => {
      gets += 1;
      return s3.get(sha256, range);
    },
    stat: (sha256) => s3.stat(sha256),
    delete: (sha256) => s3.delete(sha256),
    localPath: (sha256) => s3.localPath(sha256),
  };
  return { blobs, gets: () => gets, close: () => s3.close() };
}

async function withCache(run: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'ream-blob-files-'));
  try {
    await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

const bytes = (n: number, fill: number): Buffer => Buffer.alloc(n, fill);

void test('BlobFiles downloads a verified copy once and shares concurrent downloads', () =>
  withCache(async (dir) => {
    const { blobs, gets, close } = countingS3();
    try {
      const data = bytes(300_000, 1);
      const { sha256 } = await blobs.put(Readable.from([data]));
      const files = new BlobFiles(blobs, { dir });
      const paths = await Promise.all(Array.from({ length: 5 }, () => files.pathOf(sha256)));
      assert.equal(gets(), 1, 'five concurrent requests, one download');
      assert.ok(paths.every((path) => path === join(dir, sha256)));
      assert.ok((await readFile(join(dir, sha256))).equals(data));
      await files.pathOf(sha256);
      assert.equal(gets(), 1, 'a cached copy is reused');
      await rm(join(dir, sha256));
      assert.ok((await readFile(await files.pathOf(sha256))).equals(data), 'a copy removed behind its back is fetched again');
      assert.equal(gets(), 2);
      const reopened = new BlobFiles(blobs, { dir });
      await reopened.pathOf(sha256);
      assert.equal(gets(), 2, 'a new instance adopts the copies in its folder');
      assert.equal(reopened.totalBytes, data.byteLength);
    } finally {
      close();
    }
  }));

void test('BlobFiles evicts the least recently used copies nobody holds', () =>
  withCache(async (dir) => {
    const { blobs, close } = countingS3();
    try {
      const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(async (fill) => (await blobs.put(Readable.from([bytes(100_000, fill)]))).sha256));
      const files = new BlobFiles(blobs, { dir, maxBytes: 250_000 });
      const held = await files.acquire(a!);
      await files.pathOf(b!);
      await files.pathOf(c!);
      // a is the oldest but held: b goes.
      assert.deepEqual((await readdir(dir)).filter((name) => name !== 'tmp').sort(), [a!, c!].sort());
      held.release();
      held.release(); // idempotent
      await files.pathOf(c!);
      await files.pathOf(d!);
      assert.deepEqual((await readdir(dir)).filter((name) => name !== 'tmp').sort(), [c!, d!].sort(), 'a, released and least recently used, goes');
      assert.equal(files.totalBytes, 200_000);
    } finally {
      close();
    }
  }));

void test('BlobFiles refuses a copy that does not match its sha256 and keeps nothing of it', () =>
  withCache(async (dir) => {
    const { blobs, close } = countingS3();
    try {
      const { sha256 } = await blobs.put(Readable.from([bytes(1000, 5)]));
      const lying: BlobStore = { ...blobs, get: () => Promise.resolve(Readable.from([bytes(1000, 6)])) };
      const files = new BlobFiles(lying, { dir });
      await assert.rejects(files.pathOf(sha256), (error: unknown) => (error as { code?: string }).code === 'io_error' && /does not match its sha256/.test((error as Error).message));
      assert.deepEqual(await readdir(dir), ['tmp']);
      assert.deepEqual(await readdir(join(dir, 'tmp')), []);
      await assert.rejects(new BlobFiles(blobs, { dir }).pathOf('f'.repeat(64)), { code: 'not_found' });
      await assert.rejects(new BlobFiles(blobs, { dir }).pathOf('../x'), { code: 'validation_failed' });
    } finally {
      close();
    }
  }));

void test('BlobFiles answers with the store\'s own file when it has local files', () =>
  withCache(async (dir) => {
    const blobs = new FsBlobStore(join(dir, 'blobs'), { fsync: false });
    const { sha256 } = await blobs.put(Readable.from([Buffer.from('local')]));
    const files = new BlobFiles(blobs, { dir: join(dir, 'cache') });
    assert.equal(await files.pathOf(sha256), blobs.localPath(sha256));
    assert.equal(files.totalBytes, 0);
  }));
