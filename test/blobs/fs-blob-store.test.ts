import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
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

void test('FsBlobStore removes the ab/cd folders a delete leaves empty, and keeps those that still hold a blob', async () => {
  const { dir, blobs, cleanup } = await tempStore();
  try {
    const stored = [];
    for (let i = 0; i < 20; i++) stored.push(await blobs.put(Readable.from([Buffer.from(`blob ${i}`)])));
    const [kept, ...deleted] = stored;
    for (const { sha256 } of deleted) assert.equal(await blobs.delete(sha256), true);
    const folders = (await readdir(join(dir, 'blobs'))).filter((name) => name !== 'tmp').sort();
    assert.deepEqual(folders, [kept?.sha256.slice(0, 2)], 'only the kept blob\'s folder is left');
    assert.deepEqual(await readdir(join(dir, 'blobs', folders[0] ?? '')), [kept?.sha256.slice(2, 4)]);
    // A put into a folder a delete removed makes it again; the kept blob still reads.
    const again = await blobs.put(Readable.from([Buffer.from('blob 1')]));
    assert.equal(again.sha256, deleted[0]?.sha256);
    assert.equal(await blobs.delete(kept?.sha256 ?? ''), true);
    assert.deepEqual((await readdir(join(dir, 'blobs'))).filter((name) => name !== 'tmp'), [again.sha256.slice(0, 2)]);
  } finally {
    await cleanup();
  }
});

void test('FsBlobStore: a put into the folder a delete is emptying at that moment lands all the same', async () => {
  const { blobs, cleanup } = await tempStore({ fsync: false });
  try {
    // Two contents whose sha256 share their first four hex digits: the same ab/cd folder.
    const seen = new Map<string, string>();
    let pair: [string, string] | undefined;
    for (let i = 0; !pair; i++) {
      const content = `content ${i}`;
      const prefix = createHash('sha256').update(content).digest('hex').slice(0, 4);
      const other = seen.get(prefix);
      if (other !== undefined) pair = [other, content];
      seen.set(prefix, content);
    }
    const [first, second] = pair;
    for (let round = 0; round < 200; round++) {
      const { sha256 } = await blobs.put(Readable.from([Buffer.from(first)]));
      // The delete started a little later each round, to meet the put between its mkdir and its rename.
      const putting = blobs.put(Readable.from([Buffer.from(second)]));
      for (let tick = 0; tick < round % 20; tick++) await new Promise(setImmediate);
      const [, put] = await Promise.all([blobs.delete(sha256), putting]);
      assert.equal((await blobs.stat(put.sha256))?.size, Buffer.byteLength(second), `round ${round}`);
      assert.equal(await blobs.delete(put.sha256), true);
    }
  } finally {
    await cleanup();
  }
});
