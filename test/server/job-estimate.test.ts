// POST /v1/jobs/estimate: what a job would reserve before it is submitted (pages, credits when
// jobs are priced) and the caller's balance; the input checked as a submit checks it.
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { after, before, test } from 'node:test';
import { ReamClient } from '../../src/client/index.ts';
import { createReam, type Ream } from '../../src/runtime/create-ream.ts';
import { adaptersOf } from '../../src/runtime/internals.ts';
import { startServer, type RunningServer } from '../../src/server/app.ts';
import { rejectsWithCode } from '../support/assert-ream-error.ts';
import { makePdf, numberedPages } from '../support/make-pdf.ts';
import { issueTenantKeys } from '../support/tenant-keys.ts';

let dir: string;
const closers: Array<() => Promise<void>> = [];

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ream-job-estimate-'));
});
after(async () => {
  for (const close of closers) await close();
  await rm(dir, { recursive: true, force: true });
});

async function serve(name: string, priced: boolean): Promise<{ ream: Ream; server: RunningServer }> {
  const ream = await createReam({ dataDir: join(dir, name), threads: 1, work: false, ...(priced ? { credits: { prices: { page: 2, llmCompletion1kTokens: 5 } } } : {}) });
  const server = await startServer({ ream, host: '127.0.0.1', port: 0, auth: { mode: 'on' }, metricsHistory: false });
  closers.push(async () => {
    await server.close();
    await ream.close();
  });
  return { ream, server };
}

test('priced: a page per document at the page price, and the balance; the input checked, nothing created', async () => {
  const { ream, server } = await serve('priced', true);
  const keys = await issueTenantKeys(ream);
  const admin = new ReamClient({ baseUrl: server.url, apiKey: keys.admin });
  const a = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  await admin.grantCredits('tenant-a', { amount: 100, reason: 'test' });
  assert.deepEqual(await a.estimate({ documents: 3 }), { pages: 3, credits: 6, priced: true, balance: 100 });
  assert.deepEqual(await a.estimate({ documents: 1, pipeline: 'rules', options: { rules: [{ name: 'n', keywords: ['x'] }], chunkPages: 5 } }), { pages: 1, credits: 2, priced: true, balance: 100 });
  await rejectsWithCode(a.estimate({ documents: 1, pipeline: 'rules', options: {} }), 'validation_failed', /needs options\.rules/);
  await rejectsWithCode(a.estimate({ documents: 1, options: { chunkPages: 0 } }), 'validation_failed');
  await rejectsWithCode(a.estimate({ documents: 0 }), 'validation_failed');
  assert.equal((await ream.listJobs({ tenantId: 'tenant-a' })).items.length, 0, 'nothing was created');
});

test('not priced: no credits, the pages only', async () => {
  const { ream, server } = await serve('free', false);
  const keys = await issueTenantKeys(ream);
  assert.deepEqual(await new ReamClient({ baseUrl: server.url, apiKey: keys.b }).estimate({ documents: 2 }), { pages: 2, credits: 0, priced: false, balance: 0 });
});

/** Stores `bytes` as a document of `tenantId`, as an upload would. */
async function store(ream: Ream, tenantId: string, name: string, bytes: Uint8Array | string): Promise<string> {
  return (await ream.storeDocument(Readable.from([typeof bytes === 'string' ? Buffer.from(bytes) : bytes]), name, { tenantId })).id;
}

test('documentIds: pages counted by inspection (PDF pages, CSV rows), credits from them, the submit reserves the same', async () => {
  const { ream, server } = await serve('counted', true);
  const keys = await issueTenantKeys(ream);
  const admin = new ReamClient({ baseUrl: server.url, apiKey: keys.admin });
  const a = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  await admin.grantCredits('tenant-a', { amount: 100, reason: 'test' });
  const three = await store(ream, 'tenant-a', 'three.pdf', await makePdf({ pages: numberedPages('A', 3) }));
  const five = await store(ream, 'tenant-a', 'five.pdf', await makePdf({ pages: numberedPages('B', 5) }));

  const estimate = await a.estimate({ documentIds: [three, five] });
  assert.deepEqual(estimate, { pages: 8, credits: 16, priced: true, balance: 100, pagesCounted: 8, documentsCounted: 2, documentsNotCounted: [] });
  // Asked again (options changed in the console): answered from the per-content cache, the same.
  assert.deepEqual(await a.estimate({ documentIds: [three, five], options: { chunkPages: 2 } }), estimate);
  // Named twice, a document is in the job once: counted once.
  assert.deepEqual(await a.estimate({ documentIds: [three, five, three] }), estimate);

  // The job over them reserves what the estimate said.
  const job = await a.submit({ documents: [three, five] });
  const { store: records } = adaptersOf(ream);
  const reserve = (await records.listCredits({ jobId: job.id, limit: 10 })).find((entry) => entry.kind === 'reserve');
  assert.equal(reserve?.amount, -estimate.credits);
  assert.deepEqual(reserve?.details, { estimatedPages: 8, documents: 2 });

  const header = 'name,amount\n';
  const csv = await store(ream, 'tenant-a', 'rows.csv', header + Array.from({ length: 250 }, (_, i) => `row ${i},${i}`).join('\n') + '\n');
  const rows = await a.estimate({ documentIds: [csv], pipeline: 'rows' });
  assert.equal(rows.rows, 250);
  assert.equal(rows.pagesCounted, 250);
  assert.equal(rows.credits, 500);
  // A document pipeline reads the same table as one page per sheet: no rows.
  const asText = await a.estimate({ documentIds: [csv] });
  assert.equal(asText.pagesCounted, 1);
  assert.equal(asText.rows, undefined);
});

test('documentIds: another tenant\'s or an unknown document is not_found; a broken file is named as not counted', async () => {
  const { ream, server } = await serve('refused', false);
  const keys = await issueTenantKeys(ream);
  const a = new ReamClient({ baseUrl: server.url, apiKey: keys.a });
  const b = new ReamClient({ baseUrl: server.url, apiKey: keys.b });
  const good = await store(ream, 'tenant-a', 'two.pdf', await makePdf({ pages: numberedPages('C', 2) }));
  const broken = await store(ream, 'tenant-a', 'broken.pdf', '%PDF-1.7\nthis is not a PDF body at all\n%%EOF\n');
  await rejectsWithCode(b.estimate({ documentIds: [good] }), 'not_found');
  await rejectsWithCode(a.estimate({ documentIds: [good, 'doc-unknown'] }), 'not_found');
  await rejectsWithCode(a.estimate({ documentIds: [] }), 'validation_failed');
  await rejectsWithCode(a.estimate({ documentIds: Array.from({ length: 1001 }, () => good) }), 'validation_failed');
  // Both: the count is of files not stored yet (still uploading), a page each.
  assert.deepEqual(await a.estimate({ documents: 2, documentIds: [good] }), { pages: 4, credits: 0, priced: false, balance: 0, pagesCounted: 2, documentsCounted: 1, documentsNotCounted: [] });

  const answer = await a.estimate({ documentIds: [good, broken] });
  assert.equal(answer.pagesCounted, 2);
  assert.equal(answer.pages, 3, 'the broken file is reserved as one page');
  assert.equal(answer.documentsCounted, 1);
  assert.equal(answer.documentsNotCounted?.length, 1);
  const [uncounted] = answer.documentsNotCounted ?? [];
  assert.equal(uncounted?.documentId, broken);
  assert.notEqual(uncounted?.code, 'internal');
  assert.notEqual(uncounted?.code, 'timeout');
});
