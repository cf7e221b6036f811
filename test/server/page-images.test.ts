import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makePdf } from '../support/make-pdf.ts';

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

let dir: string;
let ream: Ream;
let server: RunningServer;
let acmeKey: string;
let acme: ReamClient;
let beta: ReamClient;
let pdfId: string;
let textId: string;

/** Width and height from the PNG's IHDR chunk. */
function pngSize(bytes: Uint8Array): { width: number; height: number } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return { width: view.getUint32(16), height: view.getUint32(20) };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-page-images-'));
  ream = await createReam({ dataDir: dir, threads: 1, work: false });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  const store = adaptersOf(ream).store;
  acmeKey = (await issueApiKey(store, { tenantId: 'acme', name: 'a', role: 'user' })).token;
  acme = new ReamClient({ baseUrl: server.url, apiKey: acmeKey });
  beta = new ReamClient({ baseUrl: server.url, apiKey: (await issueApiKey(store, { tenantId: 'beta', name: 'b', role: 'user' })).token });
  const pdf = await makePdf({ pages: ['first page', 'second page'] });
  const stored = await acme.storeDocuments([
    { name: 'two.pdf', data: pdf },
    { name: 'notes.txt', data: new TextEncoder().encode('plain text, no pages to draw') },
  ]);
  pdfId = stored[0]?.id ?? '';
  textId = stored[1]?.id ?? '';
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

describe('GET /v1/documents/:id/pages/:page/image', () => {
  test('draws a page of a PDF as a PNG at the asked resolution, cacheable by the browser', async () => {
    const image = new Uint8Array(await (await acme.pageImage(pdfId, 2)).arrayBuffer());
    assert.deepEqual([...image.subarray(0, 8)], PNG_SIGNATURE);
    const small = pngSize(image);
    // makePdf draws A4-ish pages: at 96 dpi about 800 px wide.
    assert.ok(small.width > 500 && small.width < 1200 && small.height > small.width, JSON.stringify(small));
    const large = pngSize(new Uint8Array(await (await acme.pageImage(pdfId, 2, { dpi: 192 })).arrayBuffer()));
    assert.ok(Math.abs(large.width - small.width * 2) <= 2, `twice the dpi, twice the width: ${large.width} vs ${small.width}`);
    const raw = await fetch(`${server.url}/v1/documents/${pdfId}/pages/1/image`, { headers: { authorization: `Bearer ${acmeKey}` } });
    assert.equal(raw.status, 200);
    assert.equal(raw.headers.get('content-type'), 'image/png');
    assert.equal(raw.headers.get('cache-control'), 'private, max-age=86400');
    await raw.arrayBuffer();
  });

  test('another tenant, a missing page, a bad dpi, a text document, no key: each with its code', async () => {
    await rejectsWithCode(beta.pageImage(pdfId, 1), 'not_found');
    await rejectsWithCode(acme.pageImage('doc_nope', 1), 'not_found');
    await rejectsWithCode(acme.pageImage(pdfId, 3), 'validation_failed', /pages 1–2/);
    await rejectsWithCode(acme.pageImage(pdfId, 1, { dpi: 1000 }), 'validation_failed');
    await rejectsWithCode(acme.pageImage(textId, 1), 'unsupported_type');
    const anonymous = await fetch(`${server.url}/v1/documents/${pdfId}/pages/1/image`);
    assert.equal(anonymous.status, 401);
    const zero = await fetch(`${server.url}/v1/documents/${pdfId}/pages/0/image`, { headers: { authorization: `Bearer ${acmeKey}` } });
    assert.equal(zero.status, 400);
  });
});
