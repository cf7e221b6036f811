import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { BlobStore } from '../../src/blobs/port.ts';
import { registerSuite, type ConformanceCase, type ConformanceOptions, type Harness } from './suite.ts';

type Subject = { blobs: BlobStore };

const MB = 1024 * 1024;

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** Deterministic pseudo-random bytes (so a multi-MB blob is not trivially compressible). */
function bytes(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[i] = state & 0xff;
  }
  return out;
}

/** Yields `data` in `chunkSize` pieces, as a network upload would. */
async function* chunked(data: Uint8Array, chunkSize = 64 * 1024): AsyncGenerator<Uint8Array> {
  for (let i = 0; i < data.byteLength; i += chunkSize) {
    await Promise.resolve();
    yield data.subarray(i, i + chunkSize);
  }
}

async function readAll(stream: Readable): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of stream) parts.push(Buffer.from(part as Uint8Array));
  return Buffer.concat(parts);
}

async function rejectsWithCode(promise: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(promise, (error: unknown) => (error as { code?: unknown }).code === code);
}

const BAD_ADDRESSES = ['', 'abc', '../../etc/passwd', `${'a'.repeat(63)}/`, `${'g'.repeat(64)}`, `${'a'.repeat(64)}\0`, `../${'a'.repeat(61)}`];

const cases: ConformanceCase<Subject>[] = [
  {
    name: 'put and get round-trip a multi-MB stream',
    async run({ blobs }) {
      const data = bytes(6 * MB + 123);
      const info = await blobs.put(chunked(data));
      assert.deepEqual(info, { sha256: sha256(data), size: data.byteLength });
      const back = await readAll(await blobs.get(info.sha256));
      assert.equal(back.byteLength, data.byteLength);
      assert.ok(back.equals(data));
    },
  },
  {
    name: 'put accepts a Readable, and an empty blob',
    async run({ blobs }) {
      const data = bytes(1000, 7);
      const info = await blobs.put(Readable.from([data.subarray(0, 10), data.subarray(10)]));
      assert.equal(info.sha256, sha256(data));
      const empty = await blobs.put(Readable.from([]));
      assert.deepEqual(empty, { sha256: sha256(new Uint8Array()), size: 0 });
      assert.equal((await readAll(await blobs.get(empty.sha256))).byteLength, 0);
    },
  },
  {
    name: 'the same content is stored once, also when put concurrently',
    async run({ blobs }) {
      const data = bytes(512 * 1024, 3);
      const infos = await Promise.all(Array.from({ length: 5 }, () => blobs.put(chunked(data, 7_000))));
      assert.ok(infos.every((info) => info.sha256 === sha256(data) && info.size === data.byteLength));
      assert.deepEqual(await blobs.stat(sha256(data)), { sha256: sha256(data), size: data.byteLength });
      assert.ok((await readAll(await blobs.get(sha256(data)))).equals(data));
      assert.equal(await blobs.delete(sha256(data)), true);
      assert.equal(await blobs.stat(sha256(data)), undefined, 'one delete removes the one copy');
    },
  },
  {
    name: 'a checksum mismatch fails with checksum_mismatch and stores nothing',
    async run({ blobs }) {
      const data = bytes(100_000, 5);
      const wrong = sha256(bytes(10, 6));
      await rejectsWithCode(blobs.put(chunked(data), { expectedSha256: wrong }), 'checksum_mismatch');
      assert.equal(await blobs.stat(sha256(data)), undefined);
      assert.equal(await blobs.stat(wrong), undefined);
      const ok = await blobs.put(chunked(data), { expectedSha256: sha256(data).toUpperCase() });
      assert.equal(ok.sha256, sha256(data));
    },
  },
  {
    name: 'maxBytes fails with file_too_large, stops reading and stores nothing',
    async run({ blobs }) {
      const data = bytes(300_000, 8);
      await rejectsWithCode(blobs.put(chunked(data, 10_000), { maxBytes: 100_000 }), 'file_too_large');
      assert.equal(await blobs.stat(sha256(data)), undefined);
      // An endless source: the put must give up, not read forever.
      let pulled = 0;
      async function* endless(): AsyncGenerator<Uint8Array> {
        for (;;) {
          pulled += 1;
          await Promise.resolve();
          yield new Uint8Array(1024);
        }
      }
      await rejectsWithCode(blobs.put(endless(), { maxBytes: 10_000 }), 'file_too_large');
      assert.ok(pulled < 100, `read ${pulled} chunks past the limit`);
      const exact = await blobs.put(chunked(data.subarray(0, 100_000)), { maxBytes: 100_000 });
      assert.equal(exact.size, 100_000);
    },
  },
  {
    name: 'a failing source stores nothing',
    async run({ blobs }) {
      const data = bytes(50_000, 9);
      async function* broken(): AsyncGenerator<Uint8Array> {
        yield data.subarray(0, 20_000);
        await Promise.resolve();
        throw new Error('connection reset');
      }
      await assert.rejects(blobs.put(broken()), /connection reset/);
      assert.equal(await blobs.stat(sha256(data.subarray(0, 20_000))), undefined);
    },
  },
  {
    name: 'get with a byte range returns exactly those bytes',
    async run({ blobs }) {
      const data = bytes(2 * MB, 11);
      const { sha256: address } = await blobs.put(chunked(data));
      const slice = async (start: number, end?: number) => readAll(await blobs.get(address, end === undefined ? { start } : { start, end }));
      assert.ok((await slice(0, 0)).equals(data.subarray(0, 1)));
      assert.ok((await slice(1000, 1999)).equals(data.subarray(1000, 2000)));
      assert.ok((await slice(MB)).equals(data.subarray(MB)));
      assert.ok((await slice(data.byteLength - 10, data.byteLength + 1000)).equals(data.subarray(data.byteLength - 10)), 'end is clamped');
      await rejectsWithCode(blobs.get(address, { start: data.byteLength }), 'validation_failed');
      await rejectsWithCode(blobs.get(address, { start: 10, end: 5 }), 'validation_failed');
      await rejectsWithCode(blobs.get(address, { start: -1 }), 'validation_failed');
    },
  },
  {
    name: 'stat and delete; a missing blob is not_found on get',
    async run({ blobs }) {
      const data = bytes(1234, 12);
      const { sha256: address } = await blobs.put(chunked(data));
      assert.deepEqual(await blobs.stat(address), { sha256: address, size: 1234 });
      assert.equal(await blobs.delete(address), true);
      assert.equal(await blobs.delete(address), false);
      assert.equal(await blobs.stat(address), undefined);
      await rejectsWithCode(blobs.get(address), 'not_found');
      await rejectsWithCode(blobs.get(address, { start: 0 }), 'not_found');
    },
  },
  {
    name: 'a malformed sha256 is rejected on every call with validation_failed',
    async run({ blobs }) {
      for (const bad of BAD_ADDRESSES) {
        await rejectsWithCode(blobs.get(bad), 'validation_failed');
        await rejectsWithCode(blobs.stat(bad), 'validation_failed');
        await rejectsWithCode(blobs.delete(bad), 'validation_failed');
        await rejectsWithCode(blobs.put(chunked(bytes(10)), { expectedSha256: bad }), 'validation_failed');
        assert.throws(() => blobs.localPath(bad), (error: unknown) => (error as { code?: unknown }).code === 'validation_failed');
      }
    },
  },
  {
    name: 'localPath is a readable file holding the blob, or undefined without local files',
    async run({ blobs }) {
      const data = bytes(4096, 13);
      const { sha256: address } = await blobs.put(chunked(data));
      const path = blobs.localPath(address);
      if (path === undefined) return; // the capability is optional (S3)
      const { readFile } = await import('node:fs/promises');
      assert.ok((await readFile(path)).equals(data));
    },
  },
];

/** Registers the blobs port's contract (src/blobs/port.ts) against one adapter. */
export function blobsConformance(name: string, make: () => Promise<Harness<Subject>>, options?: ConformanceOptions): void {
  registerSuite('blobs', name, make, cases, options);
}
