// Reports as job artifacts over the API: a rows job over an uploaded CSV with a template, its
// files listed, downloaded (whole and by Range), zipped; another tenant sees none of it.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import unzipper from 'unzipper';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import type { JobView } from '../../src/server/views.ts';
import { toCsv } from '../formats/sheet-files.ts';
import { makePdf } from '../support/make-pdf.ts';
import { requireOrSkip } from '../support/env.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';

const CHROMIUM = '/usr/bin/chromium';
const TEMPLATE = '<h1>{{ invoice_no }}</h1><p>{{ customer }} owes {{ total | money: "EUR" }}</p>';
const ROWS = [['invoice_no', 'customer', 'total'], ['A-1', 'Ada', '10'], ['A-2', 'Bob <b>', '20.5'], ['A-3', 'Cy', 'n/a'], ['A-4', 'Dee', '4']];

let dir: string;
let ream: Ream;
let server: RunningServer;
let keyA: string;
let keyB: string;

function get(path: string, token: string, init: RequestInit & { headers?: Record<string, string> } = {}): Promise<Response> {
  return fetch(`${server.url}${path}`, { ...init, headers: { ...init.headers, authorization: `Bearer ${token}` } });
}

async function submit(token: string, options: Record<string, unknown>): Promise<Response> {
  const body = new FormData();
  body.append('pipeline', 'rows');
  body.append('options', JSON.stringify(options));
  body.append('file', new Blob([toCsv(ROWS)], { type: 'text/csv' }), 'invoices.csv');
  return get('/v1/jobs', token, { method: 'POST', body });
}

async function bytes(response: Response): Promise<Buffer> {
  return Buffer.from(await response.arrayBuffer());
}

interface Listed { name: string; size: number; mediaType: string; documentId: string; row: number }

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-artifacts-'));
  ream = await createReam({ dataDir: join(dir, 'data'), threads: 1 });
  server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' } });
  ({ a: keyA, b: keyB } = await issueTenantKeys(ream));
});
after(async () => {
  await server.close();
  await ream.close();
  await rm(dir, { recursive: true, force: true });
});

describe('job artifacts', () => {
  test('the report pipeline: one report per PDF from its template, with its rules\' fields; a report job without a template is refused', async () => {
    const client = new ReamClient({ baseUrl: server.url, apiKey: keyA });
    await assert.rejects(client.submit({ pipeline: 'report', files: [{ name: 'a.pdf', data: await makePdf({ pages: ['x'] }) }] }), /needs options.template/);
    const job = await client.submit({
      pipeline: 'report',
      options: { template: '<h1>{{ source }}</h1><p>{{ page_count }} page(s), invoice {{ fields.invoice }}</p>', name: '{{ fields.invoice }}', rules: [{ name: 'invoice', pattern: 'INV-\\d+' }] },
      files: [{ name: 'march.pdf', data: await makePdf({ pages: ['Invoice INV-301 for March', 'terms'] }) }, { name: 'april.pdf', data: await makePdf({ pages: ['Invoice INV-402'] }) }],
    });
    assert.equal((await client.wait(job.id)).status, 'succeeded');
    const listed = await client.artifacts(job.id);
    assert.deepEqual(listed.map((item) => [item.name, item.mediaType]).sort(), [['INV-301.html', 'text/html; charset=utf-8'], ['INV-402.html', 'text/html; charset=utf-8']]);
    const html = await get(`/v1/jobs/${job.id}/artifacts/INV-301.html`, keyA);
    assert.equal((await bytes(html)).toString(), '<h1>march.pdf</h1><p>2 page(s), invoice INV-301</p>');
  });

  test('the list is paged and scoped: 100 at a time by default, of one document or one row when asked', async () => {
    const client = new ReamClient({ baseUrl: server.url, apiKey: keyA });
    const table = (from: number, count: number): string => toCsv([['no'], ...Array.from({ length: count }, (_, i) => [String(from + i)])]);
    const first = join(dir, 'first.csv');
    const second = join(dir, 'second.csv');
    await writeFile(first, table(1, 150));
    // Rows 1-5 again: their names clash with the first document's and take -2.
    await writeFile(second, table(1, 80));
    const job = await client.submit({ pipeline: 'rows', options: { template: '<p>{{ no }}</p>', name: 'N-{{ no }}' }, files: [first, second] });
    assert.equal((await client.wait(job.id)).status, 'succeeded');
    const [one, two] = (await client.jobDocuments(job.id)).items.map((doc) => doc.id);
    assert.ok(one !== undefined && two !== undefined);

    const page1 = (await (await get(`/v1/jobs/${job.id}/artifacts`, keyA)).json()) as { items: Listed[]; nextCursor: string | null };
    assert.equal(page1.items.length, 100, 'a page of 100, not the 230');
    assert.ok(page1.nextCursor !== null);
    const all = await client.artifacts(job.id);
    assert.equal(all.length, 230, 'the SDK reads every page');
    assert.deepEqual(all.slice(0, 100), page1.items);
    // Rows 1-80 of both: the document that ended later has them as -2, whichever it was.
    const names = all.map((item) => item.name);
    assert.equal(new Set(names).size, 230, 'names unique over the job, pages or not');
    const renamed = all.filter((item) => /^N-\d+-2\.html$/.test(item.name));
    assert.equal(renamed.length, 80);
    assert.equal(new Set(renamed.map((item) => item.documentId)).size, 1, 'all in the document that ended later');
    const page2 = await client.artifactPage(job.id, { limit: 100, cursor: page1.nextCursor });
    const last = await client.artifactPage(job.id, { limit: 100, cursor: page2.nextCursor ?? '' });
    assert.deepEqual([last.items.length, last.nextCursor], [30, null]);
    assert.deepEqual([...page1.items, ...page2.items, ...last.items], all, 'page by page: each file once, in one order');

    const ofSecond = await client.artifactPage(job.id, { documentId: two, limit: 50 });
    assert.deepEqual(ofSecond.items.map((item) => item.documentId), Array.from({ length: 50 }, () => two), 'the second document\'s');
    assert.ok(ofSecond.items.every((item) => names.includes(item.name)), 'named as in the whole list');
    assert.ok(ofSecond.nextCursor !== null);
    assert.equal((await client.artifacts(job.id, { documentId: two })).length, 80);
    assert.deepEqual((await client.artifactPage(job.id, { documentId: one, row: 120 })).items.map((item) => item.name), ['N-120.html']);
    assert.deepEqual((await client.artifactPage(job.id, { documentId: two, row: 120 })).items, [], 'the second document has 80 rows');
    // A job whose files were not recorded as its documents ended (made by an older ream): they are
    // recorded from its results when first asked for, in input order, with the names they had.
    const { store } = adaptersOf(ream);
    for (const documentId of [one, two]) await store.putJobReportFiles(job.id, documentId, []);
    const earlier = await client.artifacts(job.id);
    assert.deepEqual(earlier.slice(149, 152).map((item) => item.name), ['N-150.html', 'N-1-2.html', 'N-2-2.html']);
    assert.equal((await get(`/v1/jobs/${job.id}/artifacts/N-1-2.html`, keyA)).status, 200);
    // One file by its name (a download, a zip's entry) is looked up directly, not found in a listing of the job's files.
    const listings: unknown[] = [];
    const list = store.listJobReportFiles.bind(store);
    store.listJobReportFiles = (jobId, query) => {
      if (query?.limit !== 1) listings.push(query ?? {});
      return list(jobId, query);
    };
    try {
      const one77 = await get(`/v1/jobs/${job.id}/artifacts/N-77.html`, keyA);
      assert.equal((await bytes(one77)).toString(), '<p>77</p>');
    } finally {
      store.listJobReportFiles = list;
    }
    assert.deepEqual(listings, [], 'no listing');
    for (const query of ['limit=0', 'limit=1001', 'cursor=abc', 'row=-1']) {
      const refused = await get(`/v1/jobs/${job.id}/artifacts?${query}`, keyA);
      assert.equal(refused.status, 400, query);
      assert.equal(((await refused.json()) as { code: string }).code, 'validation_failed', query);
    }
  });

  test('a template that reads files is refused at submit with its line and column', async () => {
    const response = await submit(keyA, { template: "ok\n{% render 'x' %}" });
    assert.equal(response.status, 422);
    const problem = (await response.json()) as { code: string; details?: unknown };
    assert.equal(problem.code, 'template_invalid');
    assert.deepEqual(problem.details, { line: 2, column: 1 });
  });

  test('reports per row: listed, downloaded whole and by Range, zipped; progress in rows; another tenant gets 404', async (t) => {
    if (!requireOrSkip(t, existsSync(CHROMIUM), `Chromium at ${CHROMIUM}`)) return;
    const response = await submit(keyA, { template: TEMPLATE, name: '{{ invoice_no }}', pdf: { pageSize: 'A5' }, chunkPages: 2 });
    assert.equal(response.status, 202, await response.clone().text());
    const submitted = (await response.json()) as JobView;
    const client = new ReamClient({ baseUrl: server.url, apiKey: keyA });
    const ended = await client.wait(submitted.id);
    assert.equal(ended.status, 'partially_succeeded', 'the row whose total is no number failed alone');
    assert.deepEqual(ended.progress.rows, { done: 4, total: 4 });
    const events = await ream.listEvents(submitted.id, 0);
    assert.ok(events.some((event) => event.type === 'chunk.completed' && event.progress.rows?.total === 4 && event.progress.rows.done > 0 && event.progress.rows.done < 4), 'events count rows as they go');
    const [result] = await client.results(submitted.id);
    assert.deepEqual(result?.failedPages.map((failure) => [failure.page, failure.code]), [[3, 'template_render_failed']]);

    const listed = (await (await get(`/v1/jobs/${submitted.id}/artifacts`, keyA)).json()) as { items: Listed[] };
    assert.deepEqual(listed.items.map((item) => [item.name, item.row, item.mediaType]), [
      ['A-1.html', 1, 'text/html; charset=utf-8'], ['A-1.pdf', 1, 'application/pdf'],
      ['A-2.html', 2, 'text/html; charset=utf-8'], ['A-2.pdf', 2, 'application/pdf'],
      ['A-4.html', 4, 'text/html; charset=utf-8'], ['A-4.pdf', 4, 'application/pdf'],
    ]);
    assert.deepEqual(await client.artifacts(submitted.id), listed.items);

    const html = await get(`/v1/jobs/${submitted.id}/artifacts/A-2.html`, keyA);
    assert.equal(html.status, 200);
    assert.match(html.headers.get('content-disposition') ?? '', /attachment/);
    assert.equal((await bytes(html)).toString(), '<h1>A-2</h1><p>Bob &lt;b&gt; owes €20.50</p>');
    const pdf = await bytes(await get(`/v1/jobs/${submitted.id}/artifacts/A-1.pdf`, keyA));
    assert.equal(pdf.length, listed.items[1]?.size);
    assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');

    const part = await get(`/v1/jobs/${submitted.id}/artifacts/A-1.pdf`, keyA, { headers: { range: 'bytes=100-199' } });
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), `bytes 100-199/${pdf.length}`);
    assert.deepEqual(await bytes(part), pdf.subarray(100, 200));
    const tail = await get(`/v1/jobs/${submitted.id}/artifacts/A-1.pdf`, keyA, { headers: { range: 'bytes=-10' } });
    assert.deepEqual(await bytes(tail), pdf.subarray(pdf.length - 10));
    const past = await get(`/v1/jobs/${submitted.id}/artifacts/A-1.pdf`, keyA, { headers: { range: `bytes=${pdf.length}-` } });
    assert.equal(past.status, 416);
    assert.equal(past.headers.get('content-range'), `bytes */${pdf.length}`);
    const sdkPart = Buffer.concat(await Array.fromAsync(await client.downloadArtifact(submitted.id, 'A-1.pdf', { range: { start: 0, end: 4 } })));
    assert.equal(sdkPart.toString(), '%PDF-');
    assert.equal((await get(`/v1/jobs/${submitted.id}/artifacts/A-3.html`, keyA)).status, 404);

    const zipped = await bytes(await get(`/v1/jobs/${submitted.id}/artifacts.zip`, keyA));
    const zipPath = join(dir, 'artifacts.zip');
    await writeFile(zipPath, zipped);
    const zip = await unzipper.Open.file(zipPath);
    assert.deepEqual(zip.files.map((file) => file.path), listed.items.map((item) => item.name));
    for (const item of listed.items) {
      const entry = zip.files.find((file) => file.path === item.name);
      const whole = await bytes(await get(`/v1/jobs/${submitted.id}/artifacts/${encodeURIComponent(item.name)}`, keyA));
      assert.ok(entry, item.name);
      assert.deepEqual(Buffer.concat(await Array.fromAsync(entry.stream() as AsyncIterable<Buffer>)), whole, item.name);
    }
    const sdkZip = Buffer.concat(await Array.fromAsync(Readable.fromWeb(await client.artifactsZip(submitted.id)) as AsyncIterable<Buffer>));
    assert.equal(sdkZip.length, zipped.length);

    const audited = (await ream.listAudit({ tenantId: 'tenant-a', action: 'artifacts.download', limit: 100 })).filter((entry) => entry.action === 'artifacts.download' && entry.target === submitted.id);
    assert.ok(audited.length >= 3, 'downloads are in the audit log');

    for (const path of ['/artifacts', '/artifacts/A-1.pdf', '/artifacts.zip']) {
      const foreign = await get(`/v1/jobs/${submitted.id}${path}`, keyB);
      assert.equal(foreign.status, 404, path);
      assert.equal(((await foreign.json()) as { code: string }).code, 'not_found');
    }
  });
});
