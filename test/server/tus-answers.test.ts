import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { DetailedError, Upload } from 'tus-js-client';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { makePdf } from '../support/make-pdf.ts';

const TUS = { 'Tus-Resumable': '1.0.0' };
const OCTETS = { ...TUS, 'Content-Type': 'application/offset+octet-stream' };

let dir: string;
let ream: Ream;
let server: RunningServer;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-tus-answers-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, uploadsDir: join(dir, 'uploads') });
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

interface Answer {
  status: number;
  offset: string | null;
  code?: string;
  details?: Record<string, unknown>;
}

/** A request's answer; a `ReadableStream` body is sent chunked (no Content-Length). */
async function send(url: string, method: string, headers: Record<string, string> = {}, body?: Uint8Array | ReadableStream<Uint8Array>): Promise<Answer> {
  const streamed = body instanceof ReadableStream ? { duplex: 'half' as const } : {};
  const response = await fetch(url, { method, headers: { ...TUS, ...headers }, ...(body === undefined ? {} : { body }), ...streamed });
  const text = await response.text();
  const problem = text === '' ? {} : (JSON.parse(text) as { code?: string; details?: Record<string, unknown> });
  return { status: response.status, offset: response.headers.get('upload-offset'), ...problem };
}

async function created(length: number): Promise<string> {
  const response = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'Upload-Length': String(length) } });
  assert.equal(response.status, 201);
  return new URL(response.headers.get('location') ?? '', `${server.url}/v1/uploads`).href;
}

test('a PATCH at the wrong Upload-Offset is 409 upload_offset_mismatch with the offset to go on from, in its body and Upload-Offset', async () => {
  const bytes = await makePdf({ pages: ['offsets'] });
  const url = await created(bytes.length);
  assert.equal((await send(url, 'PATCH', { ...OCTETS, 'Upload-Offset': '0' }, bytes.subarray(0, 100))).status, 204);
  const wrong = await send(url, 'PATCH', { ...OCTETS, 'Upload-Offset': '7' }, bytes.subarray(7));
  assert.deepEqual([wrong.status, wrong.offset, wrong.code, wrong.details], [409, '100', 'upload_offset_mismatch', { offset: 100, sent: 7 }]);
  assert.equal((await send(url, 'PATCH', { ...OCTETS, 'Upload-Offset': '100' }, bytes.subarray(100))).status, 204, 'going on from the offset it said ends the upload');
  // Complete now: the same answer for every offset but its end.
  const late = await send(url, 'PATCH', { ...OCTETS, 'Upload-Offset': '100' }, bytes.subarray(100));
  assert.deepEqual([late.status, late.offset, late.code, late.details?.offset], [409, String(bytes.length), 'upload_offset_mismatch', bytes.length]);
});

test('a stored upload answers as complete to HEAD and PATCH alike, a refused one 410 to both; after DELETE, 404 to all', async () => {
  const bytes = await makePdf({ pages: ['stored'] });
  const stored = await created(bytes.length);
  assert.equal((await send(stored, 'PATCH', { ...OCTETS, 'Upload-Offset': '0' }, bytes)).status, 204);
  const length = String(bytes.length);
  assert.deepEqual(await send(stored, 'HEAD'), { status: 200, offset: length });
  assert.deepEqual(await send(stored, 'PATCH', { ...OCTETS, 'Upload-Offset': length }), { status: 204, offset: length }, 'nothing more to take');
  assert.equal((await send(stored, 'PATCH', { ...OCTETS, 'Upload-Offset': length }, Buffer.from('more'))).code, 'file_too_large');
  const chunked = (text: string): ReadableStream<Uint8Array> => new ReadableStream({ start(controller) {
    if (text !== '') controller.enqueue(Buffer.from(text));
    controller.close();
  } });
  assert.equal((await send(stored, 'PATCH', { ...OCTETS, 'Upload-Offset': length }, chunked('more'))).code, 'file_too_large', 'more bytes sent chunked, without a length');
  assert.deepEqual(await send(stored, 'PATCH', { ...OCTETS, 'Upload-Offset': length }, chunked('')), { status: 204, offset: length }, 'an empty chunked body');

  const junk = Buffer.from('\u0000\u0001 no document at all'.repeat(20));
  const refused = await created(junk.length);
  assert.equal((await send(refused, 'PATCH', { ...OCTETS, 'Upload-Offset': '0' }, junk)).status, 415);
  assert.deepEqual(await send(refused, 'HEAD'), { status: 410, offset: null });
  const patched = await send(refused, 'PATCH', { ...OCTETS, 'Upload-Offset': String(junk.length) });
  assert.deepEqual([patched.status, patched.offset, patched.code], [410, null, 'unsupported_type'], 'gone, and why');

  for (const url of [stored, refused]) {
    assert.equal((await send(url, 'DELETE')).status, 204);
    const after = [await send(url, 'HEAD'), await send(url, 'PATCH', { ...OCTETS, 'Upload-Offset': '0' }), await send(url, 'DELETE'), await send(url, 'GET')];
    assert.deepEqual(after.map((answer) => answer.status), [404, 404, 404, 404]);
  }
});

test('a PATCH without Content-Type application/offset+octet-stream is 415 unsupported_type, never 403 forbidden; nothing is written', async () => {
  const url = await created(10);
  const text = async (headers: Record<string, string>): Promise<Answer & { detail?: string }> => {
    const response = await fetch(url, { method: 'PATCH', headers: { ...TUS, 'Upload-Offset': '0', ...headers }, body: new Uint8Array(10) });
    return { status: response.status, offset: null, ...(JSON.parse(await response.text()) as { code?: string; detail?: string }) };
  };
  // fetch sends a Uint8Array body without a Content-Type of its own.
  const types: Array<Record<string, string>> = [{}, { 'Content-Type': 'application/json' }, { 'Content-Type': 'application/offset+octet-stream; charset=utf-8' }];
  for (const headers of types) {
    const answer = await text(headers);
    assert.deepEqual([answer.status, answer.code], [415, 'unsupported_type'], JSON.stringify(headers));
    assert.match(answer.detail ?? '', /application\/offset\+octet-stream/);
  }
  const head = await fetch(url, { method: 'HEAD', headers: TUS });
  assert.equal(head.headers.get('upload-offset'), '0');
});

test('a PATCH changing a set Upload-Length, or setting a deferred one below the bytes held, is 400 saying so', async () => {
  const url = await created(20);
  const changed = await fetch(url, { method: 'PATCH', headers: { ...OCTETS, 'Upload-Offset': '0', 'Upload-Length': '30' }, body: new Uint8Array(10) });
  const problem = (await changed.json()) as { code: string; detail: string };
  assert.deepEqual([changed.status, problem.code], [400, 'validation_failed']);
  assert.match(problem.detail, /Upload-Length is 20 already/);

  const deferred = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'Upload-Defer-Length': '1' } });
  const deferredUrl = new URL(deferred.headers.get('location') ?? '', `${server.url}/v1/uploads`).href;
  assert.equal((await send(deferredUrl, 'PATCH', { ...OCTETS, 'Upload-Offset': '0' }, new Uint8Array(10))).status, 204);
  const short = await fetch(deferredUrl, { method: 'PATCH', headers: { ...OCTETS, 'Upload-Offset': '10', 'Upload-Length': '5' }, body: new Uint8Array(0) });
  const shortProblem = (await short.json()) as { code: string; detail: string };
  assert.deepEqual([short.status, shortProblem.code], [400, 'validation_failed']);
  assert.match(shortProblem.detail, /Upload-Length 5 is less than the 10 bytes/);
});

test('bytes past Upload-Length in a chunked body (no Content-Length to refuse first) are 413 file_too_large (429 quota_exceeded past a quota), never a 500: at creation and in a PATCH', async () => {
  const chunked = (bytes: number): ReadableStream<Uint8Array> => new ReadableStream({
    start(controller) {
      controller.enqueue(new Uint8Array(bytes).fill(0x61));
      controller.close();
    },
  });
  const creation = await send(`${server.url}/v1/uploads`, 'POST', { ...OCTETS, 'Upload-Length': '5' }, chunked(10));
  assert.deepEqual([creation.status, creation.code], [413, 'file_too_large']);
  const url = await created(5);
  const patch = await send(url, 'PATCH', { ...OCTETS, 'Upload-Offset': '0' }, chunked(10));
  assert.deepEqual([patch.status, patch.code], [413, 'file_too_large']);

  // A deferred length bound by the storage quota: past it, the quota's refusal.
  const { usage } = (await (await fetch(`${server.url}/v1/credits`)).json()) as { usage: { storageBytes: number } };
  await ream.tenants.setQuotas('local', { storageBytes: usage.storageBytes + 1000 });
  try {
    const deferred = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'Upload-Defer-Length': '1' } });
    assert.equal(deferred.status, 201, await deferred.clone().text());
    const deferredUrl = new URL(deferred.headers.get('location') ?? '', `${server.url}/v1/uploads`).href;
    const overQuota = await send(deferredUrl, 'PATCH', { ...OCTETS, 'Upload-Offset': '0' }, chunked(100_000));
    assert.deepEqual([overQuota.status, overQuota.code], [429, 'quota_exceeded']);
  } finally {
    await ream.tenants.setQuotas('local', {});
  }
});

test('tus-js-client resumes a deferred-length upload whose last PATCH (the one declaring Upload-Length) was cut: the same length again is taken', { timeout: 60_000 }, async () => {
  const bytes = Buffer.from('hello world!');
  const made = await fetch(`${server.url}/v1/uploads`, { method: 'POST', headers: { ...TUS, 'Upload-Defer-Length': '1' } });
  const url = new URL(made.headers.get('location') ?? '', `${server.url}/v1/uploads`);
  assert.equal((await send(url.href, 'PATCH', { ...OCTETS, 'Upload-Offset': '0' }, bytes.subarray(0, 6))).status, 204);
  // The last PATCH declares the length, then its connection drops after 3 of its 6 bytes.
  const socket = connect(Number(url.port), url.hostname);
  socket.on('error', () => undefined);
  socket.write(`PATCH ${url.pathname} HTTP/1.1\r\nHost: ${url.host}\r\nTus-Resumable: 1.0.0\r\nContent-Type: application/offset+octet-stream\r\nUpload-Offset: 6\r\nUpload-Length: 12\r\nContent-Length: 6\r\n\r\n`);
  socket.write(bytes.subarray(6, 9));
  for (let held = '0'; held !== '9'; await sleep(50)) held = (await fetch(url, { method: 'HEAD', headers: TUS })).headers.get('upload-offset') ?? '0';
  socket.destroy();
  await sleep(200); // the cut request's lock goes

  const done = await new Promise<string>((resolve, reject) => {
    const upload = new Upload(bytes, { uploadUrl: url.href, uploadLengthDeferred: true, retryDelays: [], onSuccess: () => resolve('done'), onError: reject });
    upload.start();
  });
  assert.equal(done, 'done');
  const head = await fetch(url, { method: 'HEAD', headers: TUS });
  assert.deepEqual([head.headers.get('upload-offset'), head.headers.get('upload-length')], ['12', '12']);
});

test('tus-js-client with parallel uploads (Upload-Concat, not taken) is refused 400 once per part, not retried as a server failure', { timeout: 60_000 }, async () => {
  let creations = 0;
  const error = await new Promise<unknown>((resolve) => {
    const upload = new Upload(Buffer.alloc(1000, 0x20), {
      endpoint: `${server.url}/v1/uploads`,
      parallelUploads: 2,
      retryDelays: [0, 0, 0],
      onBeforeRequest: (request) => void (request.getMethod() === 'POST' && creations++),
      onSuccess: () => resolve(undefined),
      onError: resolve,
    });
    upload.start();
  });
  assert.ok(error instanceof DetailedError, 'the upload fails');
  assert.equal(error.originalResponse?.getStatus(), 400);
  const problem = JSON.parse(error.originalResponse?.getBody() ?? '{}') as { code?: string; status?: number; detail?: string };
  assert.deepEqual([problem.code, problem.status], ['validation_failed', 400]);
  assert.match(problem.detail ?? '', /Disable parallel uploads/);
  assert.ok(creations <= 2, `${creations} creations: one per part, none sent again`);
});
