import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import v8 from 'node:v8';
import { runInNewContext } from 'node:vm';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { S3BlobStore, type S3BlobStoreOptions } from '../../src/blobs/s3-blob-store.ts';
import { s3ClientConfig } from '../../src/blobs/s3-client.ts';
import { blobsConformance } from '../conformance/blobs.ts';
import type { TestS3Server } from '../support/s3-server.ts';
import { startS3ServerProcess } from '../support/s3-server-process.ts';
import { uniqueName } from '../support/services.ts';

const MiB = 1024 * 1024;

// A full collection on demand, whether or not node runs with --expose-gc.
v8.setFlagsFromString('--expose-gc');
const collectGarbage = runInNewContext('gc') as () => void;
let server: TestS3Server;
// In a process of its own: the 64 MiB case measures this process's memory, which must be the client's only.
before(async () => {
  server = await startS3ServerProcess();
});
after(() => server.close());

function location() {
  return { bucket: server.bucket, endpoint: server.endpoint, credentials: server.credentials, forcePathStyle: true };
}

/** A store under a prefix of its own, so cases sharing the bucket see only their own objects. */
function storeFor(options: Partial<S3BlobStoreOptions> = {}): S3BlobStore {
  return new S3BlobStore({ ...location(), prefix: `${uniqueName('case')}/`, partSizeBytes: 5 * MiB, ...options });
}

async function keysUnder(prefix: string): Promise<string[]> {
  const client = new S3Client(s3ClientConfig(location()));
  try {
    const listing = await client.send(new ListObjectsV2Command({ Bucket: server.bucket, Prefix: prefix }));
    return (listing.Contents ?? []).map((object) => object.Key ?? '');
  } finally {
    client.destroy();
  }
}

blobsConformance('S3BlobStore (s3rver)', () => {
  const blobs = storeFor();
  return Promise.resolve({ blobs, cleanup: () => Promise.resolve(blobs.close()) });
});

/**
 * `count` chunks of `chunkBytes` pseudo-random bytes, made as they are read (never all in memory).
 * With `collectEvery`, garbage is collected every that many chunks, so that what is measured is
 * what is held, not chunks already let go that a busy machine has not collected yet.
 */
async function* generated(count: number, chunkBytes: number, hash: ReturnType<typeof createHash>, collectEvery = 0): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    await Promise.resolve();
    if (collectEvery > 0 && i % collectEvery === 0) collectGarbage();
    const chunk = Buffer.alloc(chunkBytes, i % 251);
    chunk.writeUInt32LE(i, 0);
    hash.update(chunk);
    yield chunk;
  }
}

void test('S3BlobStore streams a 64 MiB put in bounded memory', async () => {
  const blobs = storeFor({ queueSize: 2 });
  try {
    collectGarbage();
    // Bytes held in buffers (what buffering the blob would hold), and the process's RSS, which
    // also keeps memory the allocator has not handed back yet: reported, not held to a bound.
    const before = process.memoryUsage();
    const peak = { arrayBuffers: before.arrayBuffers, rss: before.rss };
    const sampler = setInterval(() => {
      const now = process.memoryUsage();
      peak.arrayBuffers = Math.max(peak.arrayBuffers, now.arrayBuffers);
      peak.rss = Math.max(peak.rss, now.rss);
    }, 20);
    const hash = createHash('sha256');
    const info = await blobs.put(generated(1024, 64 * 1024, hash, 64)).finally(() => clearInterval(sampler));
    assert.deepEqual(info, { sha256: hash.digest('hex'), size: 64 * MiB });
    const held = (peak.arrayBuffers - before.arrayBuffers) / MiB;
    // Parts in flight are 2 × 5 MiB; buffering the whole blob would hold 64 MiB or more.
    assert.ok(held < 48, `buffers grew by ${held.toFixed(1)} MiB while putting 64 MiB`);
    process.stdout.write(`# while putting 64 MiB: buffers +${held.toFixed(1)} MiB, RSS +${((peak.rss - before.rss) / MiB).toFixed(1)} MiB\n`);
    assert.deepEqual(await blobs.stat(info.sha256), info);
  } finally {
    blobs.close();
  }
});

void test('S3BlobStore range get reads only the asked bytes of a multipart blob', async () => {
  const blobs = storeFor();
  try {
    const data = Buffer.alloc(11 * MiB);
    for (let i = 0; i < data.length; i += 4) data.writeUInt32LE(i, i);
    const { sha256 } = await blobs.put(Readable.from([data.subarray(0, 6 * MiB), data.subarray(6 * MiB)]));
    const read = async (start: number, end?: number): Promise<Buffer> => {
      const parts: Buffer[] = [];
      for await (const part of await blobs.get(sha256, end === undefined ? { start } : { start, end })) parts.push(part as Buffer);
      return Buffer.concat(parts);
    };
    assert.ok((await read(5 * MiB - 3, 5 * MiB + 4)).equals(data.subarray(5 * MiB - 3, 5 * MiB + 5)), 'across the part boundary');
    assert.ok((await read(data.length - 1)).equals(data.subarray(data.length - 1)));
  } finally {
    blobs.close();
  }
});

void test('S3BlobStore leaves no objects behind after a checksum mismatch, a size limit or a broken source', async () => {
  const blobs = storeFor();
  try {
    const big = Buffer.alloc(6 * MiB, 7);
    const wrong = 'a'.repeat(64);
    await assert.rejects(blobs.put(Readable.from([big]), { expectedSha256: wrong }), { code: 'checksum_mismatch' });
    await assert.rejects(blobs.put(Readable.from([Buffer.from('small')]), { expectedSha256: wrong }), { code: 'checksum_mismatch' });
    await assert.rejects(blobs.put(Readable.from([big, big]), { maxBytes: 7 * MiB }), { code: 'file_too_large' });
    async function* broken(): AsyncGenerator<Uint8Array> {
      yield big;
      await Promise.resolve();
      throw new Error('connection reset');
    }
    await assert.rejects(blobs.put(broken()), /connection reset/);
    assert.deepEqual(await keysUnder(blobs.prefix), [], 'no blob and no temporary object');
    const { sha256 } = await blobs.put(Readable.from([big]));
    assert.deepEqual(await keysUnder(blobs.prefix), [`${blobs.prefix}${sha256}`]);
  } finally {
    blobs.close();
  }
});

void test('S3BlobStore.open checks the bucket and can create it', async () => {
  const missing = `${server.bucket}-missing`;
  await assert.rejects(S3BlobStore.open({ ...location(), bucket: missing }), (error: unknown) => {
    const { code, message } = error as { code?: string; message: string };
    return code === 'io_error' && message.includes(`"${missing}" does not exist`) && !message.includes(server.credentials.secretAccessKey);
  });
  const created = await S3BlobStore.open({ ...location(), bucket: missing, createBucket: true });
  const { sha256 } = await created.put(Readable.from([Buffer.from('in a new bucket')]));
  assert.equal((await created.stat(sha256))?.size, 15);
  created.close();
  const refused = new S3BlobStore({ ...location(), endpoint: 'http://127.0.0.1:9', prefix: 'x/' });
  // An endpoint that does not answer: the service is down (503 over HTTP), try again later.
  await assert.rejects(refused.stat('b'.repeat(64)), (error: unknown) => (error as { code?: string; retryable?: boolean }).code === 'unavailable' && (error as { retryable?: boolean }).retryable === true);
  refused.close();
});
