import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { issueApiKey } from '../../src/server/auth/api-keys.ts';
import type { JobView } from '../../src/server/views.ts';
import { makePdf } from '../support/make-pdf.ts';

interface Hit {
  documentId: string;
  name: string;
  page: number;
  snippet: string;
  score: number;
}

let dir: string;
let ream: Ream;
let server: RunningServer;
let keyA: string;
let keyB: string;
let keyAdmin: string;

function get(path: string, token: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}` } });
}

async function search(query: string, token: string): Promise<Hit[]> {
  const response = await get(`/v1/search?${query}`, token);
  assert.equal(response.status, 200, await response.clone().text());
  return ((await response.json()) as { items: Hit[] }).items;
}

async function assertProblem(response: Response, status: number, code: string): Promise<void> {
  assert.equal(response.status, status);
  assert.match(response.headers.get('content-type') ?? '', /^application\/problem\+json/);
  assert.equal(((await response.json()) as { code?: unknown }).code, code);
}

/** Submits one PDF as `token`'s tenant and waits for the job to end; the document's id. */
async function indexPdf(token: string, pages: string[]): Promise<string> {
  const body = new FormData();
  body.append('file', new Blob([await makePdf({ pages })], { type: 'application/pdf' }), 'doc.pdf');
  const response = await get('/v1/jobs', token, { method: 'POST', body });
  assert.equal(response.status, 202);
  const job = (await response.json()) as JobView;
  assert.equal((await ream.wait(job.id)).status, 'succeeded');
  const [doc] = await ream.engine.ports.store.listJobDocuments(job.id);
  assert.ok(doc);
  return doc.documentId;
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-search-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  const store = ream.engine.ports.store;
  keyA = (await issueApiKey(store, { tenantId: 'tenant-a', name: 'a', role: 'user' })).token;
  keyB = (await issueApiKey(store, { tenantId: 'tenant-b', name: 'b', role: 'user' })).token;
  keyAdmin = (await issueApiKey(store, { tenantId: 'ops', name: 'admin', role: 'admin' })).token;
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

describe('GET /v1/search', () => {
  let docA: string;

  test('finds the page of an indexed document, with a marked snippet', async () => {
    docA = await indexPdf(keyA, ['Cover page', 'Terms of the Zanzibar merger\nPayment in 30 days', 'Signatures']);
    const hits = await search('q=zanzibar%20merger', keyA);
    assert.equal(hits.length, 1);
    assert.equal(hits[0]?.documentId, docA);
    assert.equal(hits[0]?.page, 2);
    assert.equal(hits[0]?.name, 'doc.pdf', 'the hit names the file');
    assert.match(hits[0]?.snippet ?? '', /«Zanzibar»/);
    assert.deepEqual(await search('q=unicorn', keyA), [], 'no match, no hits');
  });

  test('another tenant finds nothing of it; an admin may search a named tenant', async () => {
    const docB = await indexPdf(keyB, ['Zanzibar appears here too']);
    assert.deepEqual((await search('q=zanzibar', keyA)).map((h) => h.documentId), [docA]);
    assert.deepEqual((await search('q=zanzibar', keyB)).map((h) => h.documentId), [docB]);
    assert.deepEqual((await search('q=zanzibar&tenant=tenant-a', keyAdmin)).map((h) => h.documentId), [docA]);
    assert.deepEqual(await search('q=zanzibar', keyAdmin), [], 'an admin searches its own tenant by default');
    await assertProblem(await get('/v1/search?q=zanzibar&tenant=tenant-a', keyB), 403, 'forbidden');
    assert.deepEqual((await search('q=zanzibar&tenant=tenant-b', keyB)).map((h) => h.documentId), [docB], 'naming one\'s own tenant is fine');
  });

  test('limit caps the hits; query syntax is taken as words', async () => {
    await indexPdf(keyA, ['alpha one', 'alpha two', 'alpha three']);
    assert.equal((await search('q=alpha', keyA)).length, 3);
    assert.equal((await search('q=alpha&limit=2', keyA)).length, 2);
    assert.deepEqual(await search(`q=${encodeURIComponent('alpha OR "zanzibar" NEAR(x)')}`, keyA), [], 'operators are plain words');
  });

  test('bad queries are 400 validation_failed; no credentials is 401', async () => {
    await assertProblem(await get('/v1/search', keyA), 400, 'validation_failed');
    await assertProblem(await get('/v1/search?q=%20%20', keyA), 400, 'validation_failed');
    await assertProblem(await get(`/v1/search?q=${'x'.repeat(501)}`, keyA), 400, 'validation_failed');
    await assertProblem(await get('/v1/search?q=a&limit=0', keyA), 400, 'validation_failed');
    await assertProblem(await get('/v1/search?q=a&limit=x', keyA), 400, 'validation_failed');
    await assertProblem(await fetch(`${server.url}/v1/search?q=a`), 401, 'unauthorized');
  });
});
