import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { setTimeout as delay } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { ReamClient, ReamHttpError } from '../../src/client/index.ts';
import { URL_STORAGE_FILE } from '../../src/client/url-storage.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { buildServer, startServer } from '../../src/server/app.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { runReam } from '../support/run-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';

const MIB = 1024 * 1024;
/** The server's size limit here: small, so `file_too_large` is cheap to reach. */
const MAX_FILE_BYTES = 8 * MIB;

/** A tus request the server received: its method, upload id, declared offset and body length. */
interface SeenRequest {
  method: string;
  id: string;
  offset: number;
  length: number;
}

let dir: string;
let ream: Ream;
let app: FastifyInstance;
let url: string;
let seen: SeenRequest[] = [];
/** ~2 MiB: a real PDF followed by spaces (harmless after %%EOF). */
let bigPath: string;
let big: Buffer;

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-client-upload-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  app = buildServer({ ream, maxFileBytes: MAX_FILE_BYTES, uploadsDir: join(dir, 'uploads') });
  // Records what reaches the server, to see where a resumed upload starts.
  app.addHook('onRequest', (request, _reply, done) => {
    const path = request.url.split('?')[0] ?? '';
    if (path.startsWith('/v1/uploads')) {
      seen.push({
        method: request.method,
        id: path.split('/')[3] ?? '',
        offset: Number(request.headers['upload-offset'] ?? -1),
        length: Number(request.headers['content-length'] ?? 0),
      });
    }
    done();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const pdf = await makePdf({ pages: numberedPages('Big', 2), title: 'Big' });
  big = Buffer.concat([pdf, Buffer.alloc(2 * MIB - pdf.length, 0x20)]);
  bigPath = join(dir, 'big.pdf');
  await writeFile(bigPath, big);
});
after(async () => {
  await app.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => assert.fail('it succeeded'),
    (error: unknown) => error,
  );
}

/** The server's offset of an unfinished upload, once it stops moving (an aborted PATCH may still be landing). */
async function settledOffset(id: string): Promise<number> {
  let last = -1;
  for (;;) {
    const head = await fetch(`${url}/v1/uploads/${id}`, { method: 'HEAD', headers: { 'Tus-Resumable': '1.0.0' } });
    assert.equal(head.status, 200);
    const offset = Number(head.headers.get('upload-offset'));
    if (offset === last) return offset;
    last = offset;
    await delay(100);
  }
}

describe('ReamClient.upload over tus', () => {
  test('a path uploads in chunks; sha256 "compute" is declared and checked; the stored record comes back', async () => {
    const client = new ReamClient({ baseUrl: url });
    const progress: number[] = [];
    seen = [];
    const stored = await client.upload(bigPath, { sha256: 'compute', chunkSizeBytes: 512 * 1024, onProgress: (sent) => progress.push(sent) });
    assert.match(stored.uploadId, /^[0-9a-f]{32}$/);
    assert.match(stored.documentId, /^doc_/);
    assert.deepEqual({ ...stored, uploadId: '', documentId: '' }, { uploadId: '', documentId: '', sha256: sha256(big), size: big.length, name: 'big.pdf', mediaType: 'application/pdf' });
    assert.equal(seen.filter((r) => r.method === 'PATCH').length, 4, '2 MiB in 512 KiB chunks');
    assert.equal(progress.at(-1), big.length);
    const doc = (await (await fetch(`${url}/v1/documents/${stored.documentId}`)).json()) as { sha256: string };
    assert.equal(doc.sha256, sha256(big));
  });

  test('bytes, a Blob and a stream of unknown length upload too', async () => {
    const client = new ReamClient({ baseUrl: url });
    const text = Buffer.from('# Notes\n\nplain words\n');
    const fromBytes = await client.upload(text, { name: 'notes.md' });
    assert.deepEqual([fromBytes.name, fromBytes.mediaType, fromBytes.sha256], ['notes.md', 'text/markdown', sha256(text)]);
    const pdf = await makePdf({ pages: ['blob'] });
    const fromBlob = await client.upload(new File([pdf], 'blob.pdf'));
    assert.deepEqual([fromBlob.name, fromBlob.size, fromBlob.sha256], ['blob.pdf', pdf.length, sha256(pdf)]);
    const fromStream = await client.upload(Readable.from([big.subarray(0, MIB), big.subarray(MIB)]), { name: 'stream.pdf', chunkSizeBytes: 700 * 1024 });
    assert.deepEqual([fromStream.size, fromStream.sha256], [big.length, sha256(big)]);
    await assert.rejects(client.upload(Readable.from([pdf]), { sha256: 'compute' }), { code: 'validation_failed' });
  });

  test('an upload aborted mid-way resumes from the server offset, in another client sharing the resume folder', async () => {
    const resumeDir = join(dir, 'resume');
    const controller = new AbortController();
    const first = new ReamClient({ baseUrl: url, uploadResumeDir: resumeDir });
    seen = [];
    const aborted = await rejection(
      first.upload(bigPath, { chunkSizeBytes: 256 * 1024, signal: controller.signal, onProgress: (sent) => sent > 900 * 1024 && controller.abort() }),
    );
    assert.equal((aborted as Error).name, 'AbortError');
    const id = seen.find((r) => r.method === 'PATCH')?.id ?? '';
    assert.match(id, /^[0-9a-f]{32}$/);
    const offset = await settledOffset(id);
    assert.ok(offset > 0 && offset < big.length, `the server holds part of it (${offset} bytes)`);
    const remembered = JSON.parse(await readFile(join(resumeDir, URL_STORAGE_FILE), 'utf8')) as Record<string, { uploadUrl: string }>;
    assert.deepEqual(Object.values(remembered).map((u) => u.uploadUrl), [`${url}/v1/uploads/${id}`]);

    seen = [];
    const second = new ReamClient({ baseUrl: url, uploadResumeDir: resumeDir });
    const stored = await second.upload(bigPath, { chunkSizeBytes: 256 * 1024 });
    assert.equal(stored.uploadId, id, 'the same upload went on');
    assert.equal(stored.sha256, sha256(big));
    assert.equal(seen.filter((r) => r.method === 'POST').length, 0, 'no new upload was created');
    const patches = seen.filter((r) => r.method === 'PATCH');
    assert.equal(patches[0]?.offset, offset, 'the first PATCH starts at the offset the server held');
    assert.equal(
      patches.reduce((sum, r) => sum + r.length, 0),
      big.length - offset,
      'only the rest was sent',
    );
    assert.deepEqual(JSON.parse(await readFile(join(resumeDir, URL_STORAGE_FILE), 'utf8')), {}, 'a finished upload is forgotten');
  });

  test("the server's refusals keep their codes: checksum_mismatch, file_too_large, unsupported_type", async () => {
    const client = new ReamClient({ baseUrl: url });
    const pdf = await makePdf({ pages: ['checksum'] });
    const mismatch = await rejection(client.upload(pdf, { name: 'sum.pdf', sha256: 'ab'.repeat(32) }));
    assert.ok(mismatch instanceof ReamHttpError, String(mismatch));
    assert.equal(mismatch.code, 'checksum_mismatch');
    assert.equal(mismatch.httpStatus, 422);
    assert.equal(await adaptersOf(ream).blobs.stat(sha256(pdf)), undefined, 'nothing was stored');

    const tooBig = await rejection(client.upload(Buffer.alloc(MAX_FILE_BYTES + 1, 0x20), { name: 'huge.txt', resume: false }));
    assert.ok(tooBig instanceof ReamHttpError);
    assert.deepEqual([tooBig.code, tooBig.httpStatus], ['file_too_large', 413]);

    const gif = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.alloc(2000, 7)]);
    const unsupported = await rejection(client.upload(gif, { name: 'scan.pdf' }));
    assert.ok(unsupported instanceof ReamHttpError);
    assert.equal(unsupported.code, 'unsupported_type');
    await assert.rejects(client.upload(join(dir, 'missing.pdf')), { code: 'not_found' });
    await assert.rejects(client.upload(bigPath, { sha256: 'xyz' }), { code: 'validation_failed' });
    await assert.rejects(new ReamClient({ baseUrl: 'http://127.0.0.1:1' }).upload(pdf, { retryDelays: [] }), { code: 'io_error' });
  });

  test("every tus request carries the client's credentials; without them the upload is unauthorized", async () => {
    const secured = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, uploadsDir: join(dir, 'uploads-auth') });
    try {
      const { token } = await issueApiKey(adaptersOf(ream).store, { tenantId: 'tenant-up', name: 'uploader', role: 'user' });
      const stored = await new ReamClient({ baseUrl: secured.url, apiKey: token }).upload(bigPath, { chunkSizeBytes: 512 * 1024 });
      assert.equal(stored.size, big.length);
      const doc = await ream.getDocument(stored.documentId);
      assert.equal(doc?.tenantId, 'tenant-up');
      await assert.rejects(new ReamClient({ baseUrl: secured.url }).upload(bigPath), { code: 'unauthorized', httpStatus: 401 });
    } finally {
      await secured.close();
    }
  });

  test('submit names uploads and documents, or uploads files over a threshold first (input order kept)', async () => {
    const client = new ReamClient({ baseUrl: url });
    const small = await makePdf({ pages: numberedPages('Small', 1), title: 'Small' });
    const smallPath = join(dir, 'small.pdf');
    await writeFile(smallPath, small);

    const stored = await client.upload(bigPath);
    const byUpload = await client.submit({ uploads: [stored.uploadId], priority: 'high' });
    assert.equal(byUpload.counts.documents.total, 1);
    assert.equal((await client.wait(byUpload.id)).status, 'succeeded');
    const byDocument = await client.submit({ documents: [stored.documentId] });
    assert.equal((await client.wait(byDocument.id)).status, 'succeeded');

    seen = [];
    const mixed = await client.submit({ files: [smallPath, bigPath, { name: 'b.md', data: Buffer.from('# B\n') }], uploadThresholdBytes: MIB });
    assert.ok(seen.some((r) => r.method === 'PATCH'), 'the big file went over tus');
    assert.equal((await client.wait(mixed.id)).status, 'succeeded');
    assert.deepEqual((await client.results(mixed.id)).map((r) => r.source), ['small.pdf', 'big.pdf', 'b.md']);
    await assert.rejects(client.submit({ files: [] }), { code: 'validation_failed' });
  });

  test('ream submit --upload-threshold uploads big files over tus and the job runs', async () => {
    seen = [];
    const run = await runReam(['submit', bigPath, '--server', url, '--upload-threshold', '1', '--wait'], { env: { XDG_CACHE_HOME: join(dir, 'cache') } });
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stderr, /uploading .*big\.pdf: 100% of 2\.0 MiB/);
    assert.match(run.stdout, /succeeded/);
    assert.ok(seen.some((r) => r.method === 'PATCH'), 'the file went over tus');
  });
});
