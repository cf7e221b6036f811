import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { test } from 'node:test';
import { FsBlobStore } from '../../src/blobs/fs-blob-store.ts';
import { blobsConformance } from '../conformance/blobs.ts';

async function tempStore(options?: ConstructorParameters<typeof FsBlobStore>[1]) {
  const dir = await mkdtemp(join(tmpdir(), 'ream-blobs-'));
  return { dir, blobs: new FsBlobStore(join(dir, 'blobs'), options), cleanup: () => rm(dir, { recursive: true, force: true }) };
}

blobsConformance('FsBlobStore', () => tempStore());
blobsConformance('FsBlobStore (fsync off)', () => tempStore({ fsync: false }));

void test('FsBlobStore lays blobs out as ab/cd/<sha256> and leaves no temp files behind', async () => {
  const { dir, blobs, cleanup } = await tempStore();
  try {
    const { sha256 } = await blobs.put(Readable.from([Buffer.from('hello')]));
    assert.equal(blobs.localPath(sha256), join(dir, 'blobs', sha256.slice(0, 2), sha256.slice(2, 4), sha256));
    await assert.rejects(blobs.put(Readable.from([Buffer.from('x')]), { maxBytes: 0 }));
    await assert.rejects(blobs.put(Readable.from([Buffer.from('y')]), { expectedSha256: sha256 }));
    assert.deepEqual(await readdir(join(dir, 'blobs', 'tmp')), []);
  } finally {
    await cleanup();
  }
});
