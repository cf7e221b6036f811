import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DetailedError, Upload } from 'tus-js-client';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { dripPatch } from '../support/drip-patch.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';

const CHUNK = 64 * 1024;
const TUS = { 'Tus-Resumable': '1.0.0' };

let dir: string;
let ream: Ream;
let server: RunningServer;
let big: Buffer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-uploads-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, uploadsDir: join(dir, 'uploads') });
  // ~1 MB: a real PDF followed by whitespace (harmless after %%EOF).
  const pdf = await makePdf({ pages: numberedPages('Big', 2), title: 'Big' });
  big = Buffer.concat([pdf, Buffer.alloc(1024 * 1024 - pdf.length, 0x20)]);
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array): string => createHash('sha256').update(bytes).digest('hex');

interface Problem {
  code: string;
  status: number;
}

/** Runs a tus-js-client upload to its end: the upload URL, or the error. */
function runUpload(bytes: Buffer, options: { metadata?: Record<string, string>; uploadUrl?: string; onChunk?: (upload: Upload, accepted: number) => boolean }): Promise<string> {
  return new Promise((resolve, reject) => {
    const upload: Upload = new Upload(bytes, {
      endpoint: `${server.url}/v1/uploads`,
      chunkSize: CHUNK,
      retryDelays: null,
      metadata: options.metadata ?? {},
      ...(options.uploadUrl === undefined ? {} : { uploadUrl: options.uploadUrl }),
      onChunkComplete(_size, accepted) {
        // `onChunk` returning true: interrupt here, as a dropped connection would.
        if (options.onChunk?.(upload, accepted) === true) upload.abort().then(() => resolve(upload.url ?? ''), reject);
      },
      onSuccess: () => resolve(upload.url ?? ''),
      onError: reject,
    });
    upload.start();
  });
}

function problemOf(error: unknown): Problem & { contentType: string } {
  assert.ok(error instanceof DetailedError, `a DetailedError, got ${String(error)}`);
  const response = error.originalResponse;
  assert.ok(response);
  return { ...(JSON.parse(response.getBody()) as Problem), status: response.getStatus(), contentType: response.getHeader('content-type') ?? '' };
}

describe('uploads: tus at /v1/uploads, POST /v1/documents', () => {
  test('a tus upload interrupted after a chunk resumes at the server offset and is stored intact', async () => {
    const metadata = { filename: '../../etc/big.pdf', sha256: sha256(big) };
    const url = await runUpload(big, { metadata, onChunk: (_u, accepted) => accepted >= CHUNK });
    assert.match(url, /\/v1\/uploads\/[0-9a-f]{32}$/);
    const head = await fetch(url, { method: 'HEAD', headers: TUS });
    assert.equal(head.status, 200);
    const metadataKeys = (head.headers.get('upload-metadata') ?? '').split(',').map((pair) => pair.split(' ')[0]);
    assert.deepEqual(metadataKeys.sort(), ['filename', 'sha256'], 'the client\'s metadata, not the owner the server keeps');
    const offset = Number(head.headers.get('upload-offset'));
    assert.ok(offset > 0 && offset < big.length, `server offset ${offset}`);
    const partial = (await (await fetch(url)).json()) as { status: string; offset: number };
    assert.equal(partial.status, 'uploading');
    assert.equal(partial.offset, offset);

    const resumedFrom: number[] = [];
    assert.equal(await runUpload(big, { metadata, uploadUrl: url, onChunk: (_u, accepted) => (resumedFrom.push(accepted), false) }), url);
    assert.ok((resumedFrom[0] ?? 0) > offset, 'the resumed upload did not start over');
    assert.ok(resumedFrom.length < Math.ceil(big.length / CHUNK), 'fewer chunks than a full upload');

    const record = (await (await fetch(url)).json()) as { status: string; sha256: string; size: number; documentId: string; name: string; mediaType: string };
    assert.equal(record.status, 'stored');
    assert.equal(record.sha256, sha256(big));
    assert.equal(record.size, big.length);
    assert.equal(record.name, 'big.pdf');
    assert.equal(record.mediaType, 'application/pdf');
    const doc = (await (await fetch(`${server.url}/v1/documents/${record.documentId}`)).json()) as { sha256: string };
    assert.equal(doc.sha256, sha256(big));
    const stored = await adaptersOf(ream).blobs.get(record.sha256);
    const hash = createHash('sha256');
    for await (const chunk of stored) hash.update(chunk as Buffer);
    assert.equal(hash.digest('hex'), sha256(big));
    // HEAD still answers per tus once the bytes moved to the blob store; the tus copy is gone.
    const done = await fetch(url, { method: 'HEAD', headers: TUS });
    assert.equal(done.status, 200);
    assert.equal(done.headers.get('upload-offset'), String(big.length));
    const id = url.split('/').pop() ?? '';
    assert.ok(!(await readdir(join(dir, 'uploads', 'files'))).includes(id));
    // Nothing named after the metadata reached the filesystem.
    assert.ok(!(await readdir(join(dir, 'uploads', 'files'))).some((f) => f.includes('big')));

    // A job over the upload runs to its end.
    const created = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uploads: [id], priority: 'high' }),
    });
    assert.equal(created.status, 202);
    const job = (await created.json()) as { id: string };
    assert.equal(created.headers.get('location'), `/v1/jobs/${job.id}`);
    const ended = await ream.wait(job.id, { signal: AbortSignal.timeout(120_000) });
    assert.equal(ended.status, 'succeeded');
    const results = (await (await fetch(`${server.url}/v1/jobs/${job.id}/results`)).json()) as { items: Array<{ source: string }> };
    assert.equal(results.items.length, 1);
    assert.equal(results.items[0]?.source, 'big.pdf');
  });

  test('PATCHes of no bytes at the end, sent while the last bytes are stored, end the upload once: no 5xx, stored, counted once', async () => {
    const tusBytes = async (): Promise<number> => Number(/^ream_upload_bytes_total\{via="tus"\} (\d+)/m.exec(await (await fetch(`${server.url}/metrics`)).text())?.[1] ?? 0);
    const before = await tusBytes();
    const bytes = Buffer.concat([Buffer.from(await makePdf({ pages: ['ends once'] })), Buffer.alloc(300_000, 0x20)]);
    const rounds = 4;
    for (let round = 0; round < rounds; round++) {
      const created = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': String(bytes.length) } });
      const url = new URL(created.headers.get('location') ?? '', server.url);
      const patch = (offset: number, body: Buffer): Promise<number> =>
        fetch(url, { method: 'PATCH', headers: { ...TUS, 'upload-offset': String(offset), 'content-type': 'application/offset+octet-stream' }, body }).then((answer) => answer.status);
      const last = patch(0, bytes);
      const empty: Array<Promise<number>> = [];
      for (let i = 0; i < 20; i++) {
        await new Promise((resolve) => setTimeout(resolve, 2));
        empty.push(patch(bytes.length, Buffer.alloc(0)));
      }
      const statuses = [await last, ...(await Promise.all(empty))];
      assert.ok(statuses.every((status) => status < 500), `round ${round}: ${statuses.join(',')}`);
      assert.equal(((await (await fetch(url)).json()) as { status: string }).status, 'stored');
    }
    assert.equal((await tusBytes()) - before, rounds * bytes.length, 'each upload stored once');
  });

  test('a DELETE sent while a PATCH streams the last bytes ends the upload: after its 204 the upload is gone', async () => {
    const bytes = Buffer.concat([Buffer.from(await makePdf({ pages: ['deleted while sent'] })), Buffer.alloc(1_000_000, 0x20)]);
    const created = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'upload-length': String(bytes.length) } });
    const url = new URL(created.headers.get('location') ?? '', server.url);
    const id = url.pathname.split('/').pop() ?? '';
    // The DELETE comes while the PATCH holds the upload, whatever the load: sent once the PATCH's
    // first bytes are seen in the partial file (it writes them under the upload's lock), and the
    // PATCH's last bytes held back until the DELETE has answered (it asks the PATCH to let go).
    let sendLastPart = (): void => undefined;
    const lastPart = new Promise<void>((resolve) => (sendLastPart = resolve));
    const patched = dripPatch(url, bytes, TUS, lastPart);
    const writingSeenBy = Date.now() + 30_000;
    while (((await stat(join(dir, 'uploads', 'files', id)).catch(() => undefined))?.size ?? 0) === 0) {
      assert.ok(Date.now() < writingSeenBy, 'the PATCH wrote its first bytes');
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    const deleted = fetch(url, { method: 'DELETE', headers: TUS });
    void deleted.then(sendLastPart, sendLastPart);
    assert.equal((await deleted).status, 204);
    await patched;
    // The record goes just after the answer: looked for a moment.
    let status = 0;
    for (let i = 0; i < 20 && status !== 404; i++, await new Promise((resolve) => setTimeout(resolve, 50))) status = (await fetch(url)).status;
    assert.equal(status, 404, 'the deleted upload is not found');
    const job = await fetch(`${server.url}/v1/jobs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ uploads: [id] }) });
    assert.equal(job.status, 404, 'and no job can use it');
  });

  test('a wrong declared sha256 fails the upload with checksum_mismatch and stores nothing', async () => {
    const bytes = Buffer.from(await makePdf({ pages: ['checksum test'], title: 'Sum' }));
    const error = await runUpload(bytes, { metadata: { filename: 'sum.pdf', sha256: 'ab'.repeat(32) } }).then(
      () => assert.fail('the upload succeeded'),
      (e: unknown) => e,
    );
    const problem = problemOf(error);
    assert.equal(problem.status, 422);
    assert.equal(problem.code, 'checksum_mismatch');
    assert.match(problem.contentType, /^application\/problem\+json/);
    assert.equal(await adaptersOf(ream).blobs.stat(sha256(bytes)), undefined);
    const url = error instanceof DetailedError ? (error.originalRequest?.getURL() ?? '') : '';
    const record = (await (await fetch(url)).json()) as { status: string; error: Problem };
    assert.equal(record.status, 'failed');
    assert.equal(record.error.code, 'checksum_mismatch');
  });

  test('a GIF is refused as unsupported_type (creation-with-upload)', async () => {
    const gif = Buffer.concat([Buffer.from('GIF89a', 'latin1'), Buffer.alloc(2000, 7)]);
    const response = await fetch(`${server.url}/v1/uploads`, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': String(gif.length), 'Content-Type': 'application/offset+octet-stream', 'Upload-Metadata': `filename ${Buffer.from('scan.pdf').toString('base64')}` },
      body: gif,
    });
    assert.equal(response.status, 415);
    assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
    assert.equal(((await response.json()) as Problem).code, 'unsupported_type');
    assert.equal(await adaptersOf(ream).blobs.stat(sha256(gif)), undefined);
  });

  test('creation-defer-length, termination, and the size limit', async () => {
    const bytes = Buffer.from(await makePdf({ pages: ['deferred'] }));
    const created = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'Upload-Defer-Length': '1' } });
    assert.equal(created.status, 201);
    const url = new URL(created.headers.get('location') ?? '', server.url).href;
    const patched = await fetch(url, {
      method: 'PATCH',
      headers: { ...TUS, 'Upload-Offset': '0', 'Upload-Length': String(bytes.length), 'Content-Type': 'application/offset+octet-stream' },
      body: bytes,
    });
    assert.equal(patched.status, 204);
    assert.equal(((await (await fetch(url)).json()) as { status: string }).status, 'stored');

    // Termination of an unfinished upload, then of a finished one.
    const open = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'Upload-Length': '100' } });
    const openUrl = new URL(open.headers.get('location') ?? '', server.url).href;
    assert.equal((await fetch(openUrl, { method: 'DELETE', headers: TUS })).status, 204);
    assert.equal((await fetch(openUrl, { method: 'HEAD', headers: TUS })).status, 404);
    assert.equal((await fetch(url, { method: 'DELETE', headers: TUS })).status, 204);
    assert.equal((await fetch(url)).status, 404);

    // Concatenation (parallel uploads) is not taken: said, with what to do, as the client's matter.
    const concat = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'Upload-Concat': 'partial', 'Upload-Length': '10' } });
    assert.equal(concat.status, 400);
    const refusedConcat = (await concat.json()) as Problem & { detail: string };
    assert.equal(refusedConcat.code, 'validation_failed');
    assert.match(refusedConcat.detail, /Concatenation extension is not/);

    // creation-with-upload whose bytes are more than its Upload-Length: refused, and nothing made.
    const uploadsBefore = await readdir(join(dir, 'uploads', 'files'));
    const longer = await fetch(`${server.url}/v1/uploads`, {
      method: 'POST',
      headers: { ...TUS, 'Upload-Length': '5', 'Content-Type': 'application/offset+octet-stream' },
      body: 'more than five bytes',
    });
    assert.equal(longer.status, 413);
    assert.equal(((await longer.json()) as Problem).code, 'file_too_large');
    assert.deepEqual(await readdir(join(dir, 'uploads', 'files')), uploadsBefore, 'no upload was left without a Location');

    const tooBig = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(2 * 1024 ** 3) } });
    assert.equal(tooBig.status, 413);
    assert.equal(((await tooBig.json()) as Problem).code, 'file_too_large');
  });

  test('POST /v1/documents stores small files; GET /v1/documents/:id; a job over documents', async () => {
    const a = await makePdf({ pages: numberedPages('Doc', 1) });
    const body = new FormData();
    body.append('file', new Blob([a], { type: 'application/pdf' }), 'a.pdf');
    body.append('file', new Blob(['hello notes\n'], { type: 'text/plain' }), 'notes.md');
    const response = await fetch(`${server.url}/v1/documents`, { method: 'POST', body });
    assert.equal(response.status, 201);
    const { items } = (await response.json()) as { items: Array<{ id: string; sha256: string; size: number; name: string; mediaType: string }> };
    assert.deepEqual(items.map((d) => [d.name, d.mediaType, d.size]), [['a.pdf', 'application/pdf', a.length], ['notes.md', 'text/markdown', 12]]);
    assert.equal(items[0]?.sha256, sha256(a));
    const got = await fetch(`${server.url}/v1/documents/${items[0]?.id ?? ''}`);
    assert.equal(got.status, 200);
    assert.equal(((await got.json()) as { sha256: string }).sha256, sha256(a));
    const missing = await fetch(`${server.url}/v1/documents/doc_nope`);
    assert.equal(missing.status, 404);
    assert.equal(((await missing.json()) as Problem).code, 'not_found');

    const gif = new FormData();
    gif.append('file', new Blob([new Uint8Array([0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 1, 2, 3])]), 'x.pdf');
    const refused = await fetch(`${server.url}/v1/documents`, { method: 'POST', body: gif });
    assert.equal(refused.status, 415);
    assert.equal(((await refused.json()) as Problem).code, 'unsupported_type');

    const created = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ documents: items.map((d) => d.id) }),
    });
    assert.equal(created.status, 202);
    const job = (await created.json()) as { id: string };
    assert.equal((await ream.wait(job.id, { signal: AbortSignal.timeout(120_000) })).status, 'succeeded');
    const unknown = await fetch(`${server.url}/v1/jobs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ uploads: ['0'.repeat(32)] }),
    });
    assert.equal(unknown.status, 404);
  });
});

test('with a public URL under a prefix, an upload\'s Location is relative: a client reaching the server at another address uploads there, a browser behind the proxy under the prefix', async () => {
  const proxied = await startServer({ ream, host: '127.0.0.1', port: 0, uploadsDir: join(dir, 'uploads-public'), publicUrl: 'http://ream.internal.invalid:8080/ream/' });
  try {
    const created = await fetch(`${proxied.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'Upload-Length': '5' } });
    assert.equal(created.status, 201);
    const location = created.headers.get('location') ?? '';
    const id = location.split('/').pop() ?? '';
    assert.equal(new URL(location, `${proxied.url}/v1/uploads`).href, `${proxied.url}/v1/uploads/${id}`);
    assert.equal(new URL(location, 'http://ream.internal.invalid:8080/ream/v1/uploads').href, `http://ream.internal.invalid:8080/ream/v1/uploads/${id}`);
    const bytes = Buffer.from(await makePdf({ pages: ['sent to the address the client knows'] }));
    const uploaded = await new Promise<string>((resolve, reject) => {
      new Upload(bytes, { endpoint: `${proxied.url}/v1/uploads`, retryDelays: [], metadata: { filename: 'direct.pdf' }, onSuccess: () => resolve('stored'), onError: reject }).start();
    }).catch((error: unknown) => String(error));
    assert.equal(uploaded, 'stored');
  } finally {
    await proxied.close();
  }
});
