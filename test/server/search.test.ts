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
import { adaptersOf } from '../../src/runtime/internals.ts';

interface Hit {
  documentId: string;
  jobId: string | null;
  name: string;
  page: number;
  snippet: string;
  matches: Array<{ start: number; end: number }>;
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
  return (await indexPdfJob(token, pages)).documentId;
}

/** Submits one PDF (with the `rules` pipeline when rules are given) and waits for the job; its id and the document's. */
async function indexPdfJob(token: string, pages: string[], rules?: Array<{ name: string; pattern: string }>): Promise<{ jobId: string; documentId: string }> {
  const body = new FormData();
  if (rules) {
    body.append('pipeline', 'rules');
    body.append('options', JSON.stringify({ rules }));
  }
  body.append('file', new Blob([await makePdf({ pages })], { type: 'application/pdf' }), 'doc.pdf');
  const response = await get('/v1/jobs', token, { method: 'POST', body });
  assert.equal(response.status, 202);
  const job = (await response.json()) as JobView;
  assert.equal((await ream.wait(job.id)).status, 'succeeded');
  const [doc] = await ream.jobDocuments(job.id);
  assert.ok(doc);
  return { jobId: job.id, documentId: doc.documentId };
}

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-search-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  const store = adaptersOf(ream).store;
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
    assert.deepEqual(hits[0]?.matches.map((match) => hits[0]?.snippet.slice(match.start, match.end)), ['Zanzibar', 'merger']);
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

  test('a cursor pages past the first 100 hits, and each page gives the next one\'s', async () => {
    const { token } = await issueApiKey(adaptersOf(ream).store, { tenantId: 'tenant-pages', name: 'pages', role: 'user' });
    await indexPdf(token, Array.from({ length: 130 }, (_, i) => `marmot page ${i + 1}`));
    const seen: number[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const answer = await get(`/v1/search?q=marmot&limit=60${cursor === null ? '' : `&cursor=${cursor}`}`, token);
      assert.equal(answer.status, 200);
      const page = (await answer.json()) as { items: Hit[]; nextCursor: string | null };
      seen.push(...page.items.map((hit) => hit.page));
      cursor = page.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    assert.equal(pages, 3, '60 + 60 + 10');
    assert.deepEqual(seen.sort((a, b) => a - b), Array.from({ length: 130 }, (_, i) => i + 1), 'every page once');
    await assertProblem(await get('/v1/search?q=marmot&cursor=bogus', token), 400, 'validation_failed');
    await assertProblem(await get(`/v1/search?q=marmot&cursor=${Buffer.from('o20000').toString('base64url')}`, token), 400, 'validation_failed');
    // Paging ends after 10,000 hits: a cursor for the ones after them is refused, as docs/search.md says.
    await assertProblem(await get(`/v1/search?q=marmot&cursor=${Buffer.from('o10000').toString('base64url')}`, token), 400, 'validation_failed');
  });

  test('limit caps the hits; query syntax is taken as words', async () => {
    await indexPdf(keyA, ['alpha one', 'alpha two', 'alpha three']);
    assert.equal((await search('q=alpha', keyA)).length, 3);
    assert.equal((await search('q=alpha&limit=2', keyA)).length, 2);
    assert.deepEqual(await search(`q=${encodeURIComponent('alpha OR "zanzibar" NEAR(x)')}`, keyA), [], 'operators are plain words');
  });

  test('filters: job, type, dates and field values narrow the hits; with a filter q may be empty', async () => {
    const rule = [{ name: 'contract', pattern: 'Contract (K-\\d+)' }];
    const first = await indexPdfJob(keyA, ['Quokka cover', 'Quokka terms, Contract K-17'], rule);
    const second = await indexPdfJob(keyA, ['Quokka appendix, Contract K-18'], rule);
    const other = await indexPdfJob(keyB, ['Quokka of tenant b, Contract K-17'], rule);
    // Each hit as [document, page], sorted: the order of equal scores is no part of the answer.
    const found = async (query: string, token = keyA): Promise<string[]> =>
      (await search(query, token)).map((hit) => `${hit.documentId}#${hit.page}`).sort();
    const firstPages = [`${first.documentId}#1`, `${first.documentId}#2`].sort();
    assert.deepEqual(await found('q=quokka'), [...firstPages, `${second.documentId}#1`].sort(), 'no filter: both documents');
    assert.deepEqual(await found(`q=quokka&job=${first.jobId}`), firstPages);
    const byJob = await search(`q=quokka&job=${second.jobId}`, keyA);
    assert.ok(byJob.length === 1 && byJob[0]?.jobId === second.jobId, 'a hit filtered by job opens in that job');
    assert.deepEqual(await found('q=quokka&field=CONTRACT:k-17'), firstPages, 'the field value, any case, any page of the document');
    assert.deepEqual(await found('field=contract:K-18'), [`${second.documentId}#1`], 'no words: the first page of each matching document');
    assert.deepEqual(await found('q=&field=contract:K-17'), [`${first.documentId}#1`], 'an empty q with a filter');
    assert.deepEqual(await found(`field=contract:K-17&job=${second.jobId}`), [], 'filters combine');
    assert.deepEqual(await found('field=contract:K-17&field=contract:K-18'), [], 'every field filter must hold');
    assert.deepEqual(await found('field=contract:K-17', keyB), [`${other.documentId}#1`], 'each tenant its own');
    assert.deepEqual(await found(`q=quokka&job=${first.jobId}`, keyB), [], 'another tenant\'s job matches nothing');
    assert.deepEqual(await found(`job=${other.jobId}`), [], 'nor by its job id alone');
    assert.equal((await found('q=quokka&type=pdf')).length, 3);
    assert.deepEqual(await found('q=quokka&type=image'), []);
    assert.equal((await found('q=quokka&type=application%2Fpdf&from=2000-01-01&to=2999-12-31')).length, 3, 'ISO days');
    const now = Date.now();
    assert.equal((await found(`q=quokka&from=${now - 600_000}&to=${now}`)).length, 3, 'epoch ms');
    assert.deepEqual(await found(`q=quokka&to=${encodeURIComponent('2001-01-01T00:00:00Z')}`), [], 'indexed later than that');
    // A deleted job filters nothing; its documents are still found by their words.
    assert.equal((await get(`/v1/jobs/${second.jobId}`, keyA, { method: 'DELETE' })).status, 204);
    assert.deepEqual(await found(`job=${second.jobId}`), []);
    assert.deepEqual(await found('q=quokka&field=contract:K-18'), []);
    assert.deepEqual(await found('q=appendix'), [`${second.documentId}#1`]);
  });

  test('bad filters are 400 validation_failed, saying what is wrong', async () => {
    const problem = async (query: string, message: RegExp): Promise<void> => {
      const response = await get(`/v1/search?${query}`, keyA);
      assert.equal(response.status, 400, query);
      const body = (await response.json()) as { code: string; detail?: string; title?: string; message?: string };
      assert.equal(body.code, 'validation_failed', query);
      assert.match(JSON.stringify(body), message, query);
    };
    await problem('q=a&from=yesterday', /from must be an ISO date/);
    await problem('q=a&to=2026-02-31', /to must be an ISO date/);
    await problem('q=a&from=2026-12-02&to=2026-12-01', /from must not be after to/);
    await problem('q=a&field=invoice', /field must be name:value/);
    await problem('q=a&field=:x', /needs a name/);
    await problem('q=a&type=spreadsheet', /type must be a media type/);
    await problem('q=a&limit=101', /limit must be an integer from 1 to 100/);
    await problem('q=', /unless a filter/);
  });

  test('bad queries are 400 validation_failed; no credentials is 401', async () => {
    await assertProblem(await get('/v1/search', keyA), 400, 'validation_failed');
    await assertProblem(await get('/v1/search?q=%20%20', keyA), 400, 'validation_failed');
    await assertProblem(await get(`/v1/search?q=${'x'.repeat(501)}`, keyA), 400, 'validation_failed');
    await assertProblem(await get('/v1/search?q=a&limit=0', keyA), 400, 'validation_failed');
    await assertProblem(await get('/v1/search?q=a&limit=x', keyA), 400, 'validation_failed');
    await assertProblem(await fetch(`${server.url}/v1/search?q=a`), 401, 'unauthorized');
  });

  test('a hit is named as its document is in the job it points to, not as the content was first stored', async () => {
    const bytes = await makePdf({ pages: ['The Wombat clause'] });
    const jobs: string[] = [];
    for (const name of ['first name.pdf', 'second name.pdf']) {
      const body = new FormData();
      body.append('file', new Blob([bytes], { type: 'application/pdf' }), name);
      const job = (await (await get('/v1/jobs', keyA, { method: 'POST', body })).json()) as JobView;
      assert.equal((await ream.wait(job.id)).status, 'succeeded');
      jobs.push(job.id);
    }
    const [newest] = await search('q=wombat', keyA);
    assert.deepEqual([newest?.name, newest?.jobId], ['second name.pdf', jobs[1]], 'the newest job, and its name there');
    const [inFirst] = await search(`q=wombat&job=${jobs[0]}`, keyA);
    assert.deepEqual([inFirst?.name, inFirst?.jobId], ['first name.pdf', jobs[0]]);
  });
});
